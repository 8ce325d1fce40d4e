import { decodeText } from './decode.js';
import { MAX_RECORD_BYTES, RecordTooLargeError } from './record-limit.js';

const LF = 10;

/**
 * Splits a byte stream into text lines (LF or CRLF) without holding more than one partial line. Each block
 * of whole lines is decoded at once; a block that is not valid UTF-8 is decoded line by line so that only
 * the bad lines fall back to Latin-1.
 */
export class LineSplitter {
  private carry: Buffer | undefined;
  private first = true;
  private consumed = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes = MAX_RECORD_BYTES,
  ) {}

  push(chunk: Buffer): void {
    this.consumed += chunk.length;
    const last = chunk.lastIndexOf(LF);
    if (last === -1) {
      this.carry = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
      if (this.carry.length > this.maxLineBytes) throw new RecordTooLargeError(this.consumed, this.maxLineBytes);
      return;
    }
    const block = this.carry ? Buffer.concat([this.carry, chunk.subarray(0, last + 1)]) : chunk.subarray(0, last + 1);
    this.carry = last + 1 < chunk.length ? chunk.subarray(last + 1) : undefined;
    if (block.length > this.maxLineBytes && block.indexOf(LF) > this.maxLineBytes) throw new RecordTooLargeError(this.consumed, this.maxLineBytes);
    this.block(block);
  }

  end(): void {
    if (this.carry && this.carry.length > 0) this.block(this.carry, true);
    this.carry = undefined;
  }

  private block(bytes: Buffer, final = false): void {
    const text = bytes.toString('utf8');
    if (text.indexOf('\uFFFD') !== -1) {
      // Decode line by line: valid lines stay UTF-8, invalid ones become Latin-1.
      let start = 0;
      while (start < bytes.length) {
        let end = bytes.indexOf(LF, start);
        if (end === -1) end = bytes.length;
        this.line(decodeText(bytes, start, end));
        start = end + 1;
      }
      return;
    }
    let start = 0;
    const stop = final && text.charCodeAt(text.length - 1) !== LF ? text.length + 1 : text.length;
    while (start < stop) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      this.line(text.slice(start, end));
      start = end + 1;
    }
  }

  private line(raw: string): void {
    let line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (this.first) {
      this.first = false;
      // A byte order mark before the first line (a header line, say) is not data.
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    if (line.length === 0) return;
    this.onLine(line);
  }
}

/** Splits a byte stream on any separator (`line_separator`, `separator`), holding one partial record at most. */
export class SeparatorSplitter {
  private carry: Buffer | undefined;
  private consumed = 0;
  private readonly separator: Buffer;

  constructor(
    separator: string,
    private readonly onRecord: (record: string) => void,
    private readonly maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    this.separator = Buffer.from(separator);
  }

  push(chunk: Buffer): void {
    this.consumed += chunk.length;
    const bytes = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const at = bytes.indexOf(this.separator, start);
      if (at === -1) break;
      this.record(bytes, start, at);
      start = at + this.separator.length;
    }
    this.carry = start < bytes.length ? Buffer.from(bytes.subarray(start)) : undefined;
    if ((this.carry?.length ?? 0) > this.maxRecordBytes) throw new RecordTooLargeError(this.consumed, this.maxRecordBytes);
  }

  end(): void {
    if (this.carry) this.record(this.carry, 0, this.carry.length);
    this.carry = undefined;
  }

  private record(bytes: Buffer, start: number, end: number): void {
    const text = decodeText(bytes, start, end).replace(/^\uFEFF/, '');
    if (text.trim().length > 0) this.onRecord(text);
  }
}
