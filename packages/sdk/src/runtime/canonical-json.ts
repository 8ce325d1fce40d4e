/**
 * JSON with the keys of every object sorted (UTF-16 order), no whitespace: the same text for the same record
 * whatever its key order, e.g. for a dedup key over a whole record. Built as a copy whose objects get their
 * keys in sorted order, serialised by one JSON.stringify (its fast path; a replacer is 3× slower); the sorted
 * key list of each object shape is kept, since a vendor's records share a few shapes.
 */
export function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(sortedCopy(value)) ?? 'null';
  } catch (error) {
    if (error !== NOT_COPYABLE) throw error;
    return canonicalOfValue(value);
  }
}

/** An object whose keys a copy cannot keep in sorted order (array-index keys come first; `__proto__`). */
const NOT_COPYABLE = Symbol('not copyable');

interface Shape {
  keys: string[];
  sorted: string[];
}

/** The last shape seen per first key, so a record's sorted keys are usually one comparison of key lists away. */
const shapes = new Map<string, Shape>();
const MAX_SHAPES = 1000;
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

function shapeOf(record: object): Shape {
  const keys = Object.keys(record);
  const first = keys[0] ?? '';
  const known = shapes.get(first);
  if (known && known.keys.length === keys.length) {
    let same = true;
    for (let i = 1; i < keys.length; i++) {
      if (keys[i] !== known.keys[i]) {
        same = false;
        break;
      }
    }
    if (same) return known;
  }
  for (const key of keys) if (key === '__proto__' || INDEX_KEY.test(key)) throw NOT_COPYABLE;
  const shape = { keys, sorted: [...keys].sort() };
  if (shapes.size >= MAX_SHAPES) shapes.clear();
  shapes.set(first, shape);
  return shape;
}

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const sorted = sortedCopy(item);
      if (sorted !== item) (copy ??= value.slice())[i] = sorted;
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of shapeOf(record).sorted) out[key] = sortedCopy(record[key]);
  return out;
}

/** The reference definition (and the way for objects a copy cannot sort). */
function canonicalOfValue(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalOfValue(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const field = record[key];
    if (field === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalOfValue(field)}`;
  }
  return `${out}}`;
}
