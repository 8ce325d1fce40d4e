import { JsonRecord } from '../json/json-record.js';

const OPEN_BRACE = 123; // {
const CLOSE_BRACE = 125; // }

/**
 * An object whose JSON is its own enumerable properties in order: made by `JSON.parse` or a literal, no
 * `toJSON`. Arrays, class instances (Date, Map…) and boxed values are not.
 */
function isPlainRecord(value: Record<string, unknown> | null): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null) && value['toJSON'] === undefined;
}

/** True for the whitespace JSON allows between tokens. */
function isJsonSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/**
 * Serialises the events of one pull cycle: the fields every event gets (`"@devo_pulling_id"`, and
 * `"@devo_environment"` when configured) are built once, and appended to each object's JSON text without
 * parsing it, so what the vendor sent stays byte for byte and the per-event cost is one JSON.stringify (none
 * for text).
 *
 * A plain object (a record as `JSON.parse` made it) is serialised as a shallow copy with the fields added
 * last, so the message comes out of the one `JSON.stringify` as one flat string. Slicing the text and
 * concatenating the fields made a sliced string and a cons string per event, holding the first text alive
 * until the delivery flattened them into a third copy, often after they had survived a scavenge while the
 * batch waited for its turn. The copy writes the same bytes: the same own enumerable properties in the same
 * order, the fields after them. Anything else (a class instance, `toJSON`, an object that already holds one
 * of the fields) goes through the text.
 */
export class EventEncoder {
  /** `,"@devo_pulling_id":"…"}`: replaces the closing brace of a non-empty object. */
  private readonly tail: string;
  /** `{"@devo_pulling_id":"…"}`: an empty object becomes just the fields. */
  private readonly alone: string;

  constructor(
    private readonly pullingId: string,
    private readonly environment?: string,
  ) {
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
    // A record forwarded as the vendor's text (`jsonRecords`): the fields go after that text, nothing is re-serialised.
    if (event instanceof JsonRecord) return event.message(this);
    const record = event as Record<string, unknown> | null;
    if (record?.['@devo_pulling_id'] !== undefined) return JSON.stringify(event) ?? 'null';
    if (isPlainRecord(record) && !('@devo_pulling_id' in record) && (this.environment === undefined || !('@devo_environment' in record))) {
      // Never the vendor's own object: a vendor may still read (or hash) it after yielding it.
      return JSON.stringify(this.environment === undefined ? { ...record, '@devo_pulling_id': this.pullingId } : { ...record, '@devo_pulling_id': this.pullingId, '@devo_environment': this.environment });
    }
    return this.extend(JSON.stringify(event) ?? 'null');
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
 * Serialises a vendor record once with `@devo_pulling_id` (and `@devo_environment`) last, as EventEncoder
 * does. Strings are sent as they are. Per pull cycle, an EventEncoder builds the appended text once.
 */
export function encodeEvent(event: unknown, pullingId: string, environment?: string): string {
  return new EventEncoder(pullingId, environment).encode(event);
}
