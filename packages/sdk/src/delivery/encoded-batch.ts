import type { DeliveryRecord } from './delivery-record.js';

const LF = 10;

/**
 * Events of one tag handed to the delivery as UTF-8 bytes instead of one string each: message `i` is
 * `bytes[ends[i - 1] .. ends[i])` (`bytes[begin .. ends[0])` for the first), without a line break at its end.
 * An output that frames bytes (the Devo/syslog outputs) copies them into its batch as they are, so a
 * producer that has the bytes already (a worker thread, a file) never makes a JS string per event; any
 * other output gets the events decoded (`records()`). The bytes must be valid UTF-8 (`Buffer`'s `isUtf8`):
 * they reach the wire unchanged, where strings would have had invalid sequences replaced. Never mutate the
 * bytes after submitting them: the delivery keeps them until every output acknowledged them.
 */
export class EncodedBatch {
  constructor(
    readonly tag: string,
    readonly bytes: Uint8Array,
    readonly ends: Uint32Array,
    /** Where the first message starts in `bytes`. */
    readonly begin = 0,
  ) {}

  /** The number of events. */
  get length(): number {
    return this.ends.length;
  }

  /** The bytes of message `i`. */
  messageBytes(i: number): number {
    return this.ends[i]! - (i === 0 ? this.begin : this.ends[i - 1]!);
  }

  /** The bytes of every message, framing excluded. */
  get byteLength(): number {
    return this.ends.length === 0 ? 0 : this.ends[this.ends.length - 1]! - this.begin;
  }

  /** Events `start` to `end` (exclusive), sharing the bytes (no copy). */
  slice(start: number, end = this.ends.length): EncodedBatch {
    return new EncodedBatch(this.tag, this.bytes, this.ends.subarray(start, end), start === 0 ? this.begin : this.ends[start - 1]!);
  }

  /** The events as DeliveryRecords: the slow path, for outputs that take strings and for the emergency persistence. */
  records(): DeliveryRecord[] {
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const out = new Array<DeliveryRecord>(this.ends.length);
    let at = this.begin;
    for (let i = 0; i < this.ends.length; i++) out[i] = { tag: this.tag, message: text.toString('utf8', at, (at = this.ends[i]!)) };
    return out;
  }

  /**
   * Builds a batch from strings (tests, and producers that have some events as strings): one allocation,
   * each string UTF-8-encoded once.
   */
  static from(tag: string, messages: readonly string[]): EncodedBatch {
    let size = 0;
    for (const m of messages) size += Buffer.byteLength(m);
    const bytes = Buffer.allocUnsafeSlow(size);
    const ends = new Uint32Array(messages.length);
    let at = 0;
    for (let i = 0; i < messages.length; i++) ends[i] = at += bytes.write(messages[i]!, at);
    return new EncodedBatch(tag, bytes, ends);
  }
}

/** What the delivery queues: records, or events as bytes. */
export type Batch = readonly DeliveryRecord[] | EncodedBatch;

/**
 * What a producer submits: records, events of one tag as bytes, or events of several tags as bytes (one
 * EncodedBatch per run of one tag, often sharing one buffer), delivered and acknowledged as one.
 */
export type Submission = Batch | readonly EncodedBatch[];

/** The batches of a submission. */
export function partsOf(submission: Submission): readonly Batch[] {
  if (submission instanceof EncodedBatch) return [submission];
  return submission[0] instanceof EncodedBatch ? (submission as readonly EncodedBatch[]) : [submission as readonly DeliveryRecord[]];
}

/** The number of events in a submission. */
export function eventCount(submission: Submission): number {
  let count = 0;
  for (const part of partsOf(submission)) count += part.length;
  return count;
}

/** The records of a batch (decoding an EncodedBatch). */
export function recordsOf(batch: Batch): readonly DeliveryRecord[] {
  return batch instanceof EncodedBatch ? batch.records() : batch;
}

/**
 * Frames encoded batches as Devo syslog lines into `out` from `at`, exactly as SyslogEncoder frames the same
 * messages as strings: `header` + message + LF, or, for a message with a line break inside, one RFC 6587
 * octet-counted frame (`LEN SP header message LF`, no second LF when the message ends with one). Returns the
 * end offset. `out` must have room for framedSize().
 */
export function frameEncoded(batch: EncodedBatch, header: Buffer, out: Buffer, at: number): number {
  const { bytes, ends } = batch;
  // Only up to the last message: a producer's reused buffer may hold stale bytes beyond it.
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, ends.length === 0 ? 0 : ends[ends.length - 1]!);
  let start = batch.begin;
  // The next line break in the bytes: one memchr over the batch, not one search per message.
  let nextLf = ends.length === 0 ? -1 : src.indexOf(LF, start);
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    if (nextLf === -1 || nextLf >= end) {
      at += header.copy(out, at);
      at += src.copy(out, at, start, end);
      out[at++] = LF;
    } else {
      const endsWithLf = end > start && src[end - 1] === LF;
      const length = header.length + (end - start) + (endsWithLf ? 0 : 1);
      at += out.write(`${length} `, at, 'latin1');
      at += header.copy(out, at);
      at += src.copy(out, at, start, end);
      if (!endsWithLf) out[at++] = LF;
      nextLf = src.indexOf(LF, end);
    }
    start = end;
  }
  return at;
}

/** Room framing `batch` with `header` may take at most (octet counts included). */
export function framedSize(batch: EncodedBatch, headerBytes: number): number {
  return batch.byteLength + batch.length * (headerBytes + 12);
}
