import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level: the same record always gives the same text. Built by
 * appending to one string (no array per object): it runs once per event.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonical(value[i]);
    return `${out}]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    let out = '{';
    for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '' : ','}${JSON.stringify(keys[i])}:${canonical((value as Record<string, unknown>)[keys[i]!])}`;
    return `${out}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `<id>#<hash of the whole record>`: the dedup key of a record that Darktrace changes after creation. A
 * re-read of an unchanged record gives the same key (a duplicate, dropped); any change to it (acknowledged,
 * a new score, another group, a cleared action) gives a new key, so the changed record is delivered again.
 */
export function versionKey(id: string | number, record: unknown, suffix = ''): string {
  const hash = createHash('sha1').update(canonical(record)).digest('base64url').slice(0, 16);
  return `${id}#${hash}${suffix}`;
}
