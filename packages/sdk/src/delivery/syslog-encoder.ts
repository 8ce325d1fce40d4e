import { OutputError } from '../errors/collector-error.js';
import { EncodedBatch, frameEncoded, framedSize, type Batch } from './encoded-batch.js';
import type { DeliveryRecord } from './types.js';

/** DCSDK priority: facility user (1) * 8 + severity info (6). */
const PRI = '<14>';
const LF = 10;

const validTags = new Set<string>();
// One level: anything but whitespace, control characters, dots and the colon that ends the syslog TAG.
const TAG_LEVEL = /^[^\s.:\u0000-\u001f\u007f]+$/;

/**
 * Devo tags have 2 to 6 dot-separated, non-empty levels and at most 1024 characters (DCSDK message.py).
 * Throws OutputError 601 otherwise. Valid tags are remembered, so the check costs one Set lookup per batch.
 */
export function validateTag(tag: string): void {
  if (validTags.has(tag)) return;
  const levels = tag.split('.');
  if (tag.length > 1024 || levels.length < 2 || levels.length > 6 || !levels.every((l) => TAG_LEVEL.test(l))) {
    throw new OutputError(601, `Invalid Devo tag "${tag.slice(0, 80)}${tag.length > 80 ? '…' : ''}": a tag has 2 to 6 dot-separated levels without spaces or colons and at most 1024 characters`, {
      remedy: 'Fix override_devo_tag / the tag passed to emit()',
    });
  }
  if (validTags.size < 10_000) validTags.add(tag);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: the DCSDK's `"%Y-%m-%d %H:%M:%S.%f"[:23]`. */
export function formatSyslogDate(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)} ${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}.${pad(date.getUTCMilliseconds(), 3)}`;
}

/**
 * The Devo line format: `<14>` + UTC date + hostname + tag + `: ` + message + LF. A message with a newline
 * inside is sent as one RFC 6587 octet-counted frame (`LEN SP record`, the record ending with its LF) so it
 * stays one event. A batch becomes ONE Buffer, written with one syscall: the hot path allocates no per-event
 * objects besides the strings V8 concatenates. JS strings cannot carry invalid UTF-8; lone surrogates are
 * replaced with U+FFFD by the UTF-8 encoder.
 */
export class SyslogEncoder {
  private lastMs = Number.NaN;
  private lastDate = '';
  private lastTag = '';
  private lastHeader = '';

  constructor(private readonly hostname: string) {}

  /** The header for `tag` at `ms`, cached while the millisecond and the tag stay the same. */
  private header(tag: string, ms: number): string {
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastDate = formatSyslogDate(new Date(ms));
      this.lastTag = '';
    }
    if (tag !== this.lastTag) {
      this.lastTag = tag;
      this.lastHeader = `${PRI}${this.lastDate} ${this.hostname} ${tag}: `;
    }
    return this.lastHeader;
  }

  /** One record as a string including its framing (for tests and small writes). */
  frame(record: DeliveryRecord, nowMs = Date.now()): string {
    const header = this.header(record.tag, record.time ? record.time.getTime() : nowMs);
    const message = record.message;
    if (message.indexOf('\n') === -1) return `${header}${message}\n`;
    return octetCounted(header, message);
  }

  /**
   * A whole batch as one Buffer. The text is UTF-8-encoded straight into one allocation (no intermediate
   * concatenated string, which costs a flatten and a copy per batch).
   */
  encode(records: readonly DeliveryRecord[], nowMs = Date.now()): Buffer {
    let capacity = 64;
    for (let i = 0; i < records.length; i++) capacity += records[i]!.message.length + records[i]!.tag.length + this.hostname.length + 48;
    let buf = Buffer.allocUnsafe(capacity);
    let off = 0;
    // Guarantees room for `text`: cheap when the worst case (3 bytes a UTF-16 unit) fits, exact otherwise.
    const ensure = (text: string): void => {
      if (buf.length - off >= text.length * 3 + 24) return;
      const need = off + Buffer.byteLength(text, 'utf8') + 24;
      if (need <= buf.length) return;
      const bigger = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
      buf.copy(bigger, 0, 0, off);
      buf = bigger;
    };
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const header = this.header(record.tag, record.time ? record.time.getTime() : nowMs);
      const message = record.message;
      if (message.indexOf('\n') !== -1) {
        const framed = octetCounted(header, message);
        ensure(framed);
        off += buf.write(framed, off, 'utf8');
        continue;
      }
      ensure(header);
      off += buf.write(header, off, 'utf8');
      ensure(message);
      off += buf.write(message, off, 'utf8');
      buf[off++] = LF; // ensure() keeps 24 spare bytes
    }
    return buf.subarray(0, off);
  }

  /**
   * Batches of records and of encoded events (EncodedBatch) as one Buffer, in order: the bytes of an
   * encoded batch are copied behind one header per message, never decoded. The same lines as encode() of
   * the same messages as strings.
   */
  encodeBatches(batches: readonly Batch[], nowMs = Date.now(), allocate: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
    if (batches.length === 1 && !(batches[0] instanceof EncodedBatch)) return this.encode(batches[0]!, nowMs);
    const parts: (Buffer | EncodedBatch)[] = [];
    const headers = new Map<string, Buffer>();
    let capacity = 0;
    for (const batch of batches) {
      if (batch instanceof EncodedBatch) {
        let header = headers.get(batch.tag);
        if (!header) headers.set(batch.tag, (header = Buffer.from(this.header(batch.tag, nowMs))));
        capacity += framedSize(batch, header.length);
        parts.push(batch);
      } else {
        const bytes = this.encode(batch, nowMs);
        capacity += bytes.length;
        parts.push(bytes);
      }
    }
    const out = allocate(capacity);
    let at = 0;
    for (const part of parts) at = part instanceof EncodedBatch ? frameEncoded(part, headers.get(part.tag)!, out, at) : at + part.copy(out, at);
    return out.subarray(0, at);
  }
}

/** RFC 6587 octet counting: `LEN SP record`, the record ending with its LF, LEN in bytes. */
function octetCounted(header: string, message: string): string {
  const full = message.charCodeAt(message.length - 1) === LF ? `${header}${message}` : `${header}${message}\n`;
  return `${Buffer.byteLength(full, 'utf8')} ${full}`;
}
