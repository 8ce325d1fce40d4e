/**
 * Serialises a vendor record once, appending `@devo_pulling_id` (and `@devo_environment` when configured)
 * without copying the object: the JSON text is extended in place.
 */
export function encodeEvent(event: unknown, pullingId: string, environment?: string): string {
  if (typeof event === 'string') return event;
  const json = JSON.stringify(event) ?? 'null';
  if (json.charCodeAt(0) !== 123 /* { */ || (event as Record<string, unknown>)['@devo_pulling_id'] !== undefined) return json;
  const extra = `"@devo_pulling_id":"${pullingId}"${environment === undefined ? '' : `,"@devo_environment":${JSON.stringify(environment)}`}`;
  return json === '{}' ? `{${extra}}` : `${json.slice(0, -1)},${extra}}`;
}
