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
 * Where EventEncoder.encodeInto writes one message: UTF-8 bytes appended to a buffer (the runner's batch
 * being filled, see EncodedQueue).
 */
export interface MessageWriter {
  /** Appends text (UTF-8-encoded: a lone surrogate becomes U+FFFD, as on the wire) or bytes. */
  write(part: string | Uint8Array): void;
  /** Takes back the last `bytes` bytes of the message being written. */
  drop(bytes: number): void;
}

/**
 * Serialises the events of one pull cycle: the fields every event gets (`"@devo_pulling_id"`, and
 * `"@devo_environment"` when configured) are built once, and appended to each object's JSON text without
 * parsing it, so what the vendor sent stays byte for byte and the per-event cost is one JSON.stringify (none
 * for text).
 *
 * `encodeInto` (the runner's path) writes a plain object (a record as `JSON.parse` made it) as its
 * `JSON.stringify` text into the batch's buffer and the fields' bytes over its closing brace: no copy of the
 * record, and the message never exists as a string that lives on. `encode` returns the message as a string:
 * a plain object is serialised as a shallow copy with the fields added last, so it comes out of the one
 * `JSON.stringify` as one flat string (slicing the text and concatenating the fields made a sliced string
 * and a cons string per event). Both write the same bytes: the same own enumerable properties in the same
 * order, the fields after them. Anything else (a class instance, `toJSON`, an object that already holds one
 * of the fields) goes through the text.
 */
export class EventEncoder {
  /** `,"@devo_pulling_id":"…"}`: replaces the closing brace of a non-empty object. */
  private readonly tail: string;
  /** `{"@devo_pulling_id":"…"}`: an empty object becomes just the fields. */
  private readonly alone: string;
  /** `tail` and `alone` as UTF-8, for encodeInto. */
  private readonly tailBytes: Buffer;
  private readonly aloneBytes: Buffer;

  constructor(
    private readonly pullingId: string,
    private readonly environment?: string,
  ) {
    const fields = `"@devo_pulling_id":${JSON.stringify(pullingId)}${environment === undefined ? '' : `,"@devo_environment":${JSON.stringify(environment)}`}`;
    this.tail = `,${fields}}`;
    this.alone = `{${fields}}`;
    this.tailBytes = Buffer.from(this.tail);
    this.aloneBytes = Buffer.from(this.alone);
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
    if (this.takesFields(record)) {
      // Never the vendor's own object: a vendor may still read (or hash) it after yielding it.
      return JSON.stringify(this.environment === undefined ? { ...record, '@devo_pulling_id': this.pullingId } : { ...record, '@devo_pulling_id': this.pullingId, '@devo_environment': this.environment });
    }
    return this.extend(JSON.stringify(event) ?? 'null');
  }

  /** Writes the message of `event` to `out`: the bytes of encode(event), UTF-8. */
  encodeInto(event: unknown, out: MessageWriter): void {
    // The vendor's text is copied into the batch once, the fields' bytes after it: no message string at all.
    if (event instanceof JsonRecord) return event.holdsPullingId ? out.write(event.text) : this.extendInto(event.text, out);
    const record = event as Record<string, unknown> | null;
    if (typeof event === 'string' || !this.takesFields(record)) return out.write(this.encode(event));
    this.extendInto(JSON.stringify(record), out);
  }

  /**
   * extend() written to `out`: the JSON text of an object, then the fields' bytes over its closing brace (the
   * text is copied once, into `out`, and no extended string is made); any other text as it is.
   */
  extendInto(json: string, out: MessageWriter): void {
    const last = json.length - 1;
    if (last < 1 || json.charCodeAt(0) !== OPEN_BRACE || json.charCodeAt(last) !== CLOSE_BRACE) return out.write(json);
    for (let i = last - 1; i > 0; i--) {
      if (isJsonSpace(json.charCodeAt(i))) continue;
      out.write(json);
      out.drop(1);
      return out.write(this.tailBytes);
    }
    out.write(this.aloneBytes);
  }

  /** A plain record that holds none of the fields: they are added after its own properties. */
  private takesFields(record: Record<string, unknown> | null): record is Record<string, unknown> {
    return isPlainRecord(record) && !('@devo_pulling_id' in record) && (this.environment === undefined || !('@devo_environment' in record));
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
