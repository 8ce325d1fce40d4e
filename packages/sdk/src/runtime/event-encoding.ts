const OPEN_BRACE = 123; // {
const CLOSE_BRACE = 125; // }

/** True for the whitespace JSON allows between tokens. */
function isJsonSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/**
 * Serialises the events of one pull cycle: the fields every event gets (`"@devo_pulling_id"`, and
 * `"@devo_environment"` when configured) are built once, and appended to each object's JSON text without
 * parsing it, so what the vendor sent stays byte for byte and the per-event cost is one JSON.stringify (none
 * for text) plus one concatenation.
 */
export class EventEncoder {
  /** `,"@devo_pulling_id":"…"}`: replaces the closing brace of a non-empty object. */
  private readonly tail: string;
  /** `{"@devo_pulling_id":"…"}`: an empty object becomes just the fields. */
  private readonly alone: string;

  constructor(pullingId: string, environment?: string) {
    const fields = `"@devo_pulling_id":${JSON.stringify(pullingId)}${environment === undefined ? '' : `,"@devo_environment":${JSON.stringify(environment)}`}`;
    this.tail = `,${fields}}`;
    this.alone = `{${fields}}`;
  }

  /** Appends the fields to the JSON text of an object; any other text is returned as it is. */
  extend(json: string): string {
    const last = json.length - 1;
    if (last < 1 || json.charCodeAt(0) !== OPEN_BRACE || json.charCodeAt(last) !== CLOSE_BRACE) return json;
    // Usually one comparison: only `{}` (or `{ }`) reaches the opening brace.
    for (let i = last - 1; i > 0; i--) if (!isJsonSpace(json.charCodeAt(i))) return json.slice(0, last) + this.tail;
    return this.alone;
  }

  /** A vendor record as its JSON text with the fields; strings are sent as they are. */
  encode(event: unknown): string {
    if (typeof event === 'string') return event;
    const json = JSON.stringify(event) ?? 'null';
    if ((event as Record<string, unknown> | null)?.['@devo_pulling_id'] !== undefined) return json;
    return this.extend(json);
  }
}

/**
 * Appends `"@devo_pulling_id"` (and `"@devo_environment"` when configured) to the JSON text of an object
 * without parsing it. Services that forward vendor JSON byte for byte (SQS objects) use it directly.
 */
export function extendJsonObject(json: string, pullingId: string, environment?: string): string {
  return new EventEncoder(pullingId, environment).extend(json);
}

/**
 * Serialises a vendor record once, appending `@devo_pulling_id` (and `@devo_environment`) without copying
 * the object. Strings are sent as they are. Per batch, an EventEncoder builds the appended text once.
 */
export function encodeEvent(event: unknown, pullingId: string, environment?: string): string {
  return new EventEncoder(pullingId, environment).encode(event);
}
