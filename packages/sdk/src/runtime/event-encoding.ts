/**
 * Appends `"@devo_pulling_id"` (and `"@devo_environment"` when configured) to the JSON text of an object
 * without parsing it. Services that forward vendor JSON byte for byte (SQS objects) use it directly.
 */
export function extendJsonObject(json: string, pullingId: string, environment?: string): string {
  if (json.charCodeAt(0) !== 123 /* { */ || json.charCodeAt(json.length - 1) !== 125 /* } */) return json;
  const extra = `"@devo_pulling_id":"${pullingId}"${environment === undefined ? '' : `,"@devo_environment":${JSON.stringify(environment)}`}`;
  return /^\{\s*\}$/.test(json) ? `{${extra}}` : `${json.slice(0, -1)},${extra}}`;
}

/**
 * Serialises a vendor record once, appending `@devo_pulling_id` (and `@devo_environment`) without copying
 * the object. Strings are sent as they are.
 */
export function encodeEvent(event: unknown, pullingId: string, environment?: string): string {
  if (typeof event === 'string') return event;
  const json = JSON.stringify(event) ?? 'null';
  if ((event as Record<string, unknown> | null)?.['@devo_pulling_id'] !== undefined) return json;
  return extendJsonObject(json, pullingId, environment);
}
