/**
 * A JSON object record as the bytes the vendor wrote (one line, valid UTF-8), not yet a string. Processing
 * threads pass these instead of strings where the record stage forwards records untouched: the thread
 * copies the bytes (and the pulling-id fields) straight into the batch it hands over, which the main thread
 * hands to the SDK as bytes (EncodedBatch): no string is built for the record in either thread.
 */
export class RawJson {
  constructor(
    readonly bytes: Buffer,
    readonly start: number,
    readonly end: number,
  ) {}

  /** Bytes written by `writeTo` at most: the record, a comma and `suffix`. */
  size(suffix: Buffer): number {
    return this.end - this.start + suffix.length + 1;
  }

  /** The record with `suffix` (UTF-8) appended as `appendFields` does it on text (`{...}` → `{...,suffix}`, `{}` → `{suffix}`). */
  writeTo(target: Buffer, at: number, suffix: Buffer): number {
    let close = this.end - 1;
    while (close > this.start && this.bytes[close] !== 125 /* } */) close--;
    let last = close - 1;
    while (last > this.start && (this.bytes[last] === 32 || this.bytes[last] === 9)) last--;
    let n = this.bytes.copy(target, at, this.start, close);
    if (this.bytes[last] !== 123 /* { */) target[at + n++] = 44; /* , */
    n += suffix.copy(target, at + n);
    target[at + n++] = 125; /* } */
    return n;
  }
}
