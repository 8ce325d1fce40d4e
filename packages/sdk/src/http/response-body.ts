/**
 * A response body gathered as bytes and decoded to text once, at its end.
 *
 * Decoding each read as it arrives (a `StringDecoder` per chunk, appended) made every page a rope of 16–64 KiB
 * pieces that the page scanner's first search then flattened: a second copy of the page, and `charCodeAt`
 * through the runtime instead of inline until it was flat (docs/benchmarks.md, wave 9). One decode of the
 * whole body gives a flat string from the start.
 *
 * Memory: when the head announced the length (Content-Length), the body is copied into one Buffer of exactly
 * that size as it is read, so the reads are let go at once and nothing is copied twice (no growing buffer, no
 * concatenation at the end); a body that came in one read is decoded from that read without a copy. Without a
 * length (chunked coding, or up to the connection's close) the reads are kept and joined once at the end.
 * The bytes exist only while the last read is handled: they are dropped as soon as the text is made.
 */
export class ResponseBody {
  /** Bytes read so far, over every piece. */
  size = 0;
  /** The announced body, filled up to `filled` (Content-Length framing with more than one read). */
  private whole: Buffer | undefined;
  private filled = 0;
  /** The pieces read when the length was not announced (or the one piece that was the whole body). */
  private pieces: Buffer[] = [];

  /**
   * `maxBytes`: a larger body (announced or read) is refused with `tooLarge()` before more is allocated or
   * kept, so a lying or hostile server cannot make the collector allocate what it announces.
   */
  constructor(
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
  ) {}

  /** One piece of the body as read; `announced` is the head's Content-Length when it framed the body. */
  add(bytes: Buffer, announced: number | undefined): void {
    this.size += bytes.length;
    if (this.size > this.maxBytes || (announced !== undefined && announced > this.maxBytes)) throw this.tooLarge();
    if (announced === undefined) {
      this.pieces.push(bytes);
      return;
    }
    let whole = this.whole;
    if (whole === undefined) {
      // The whole body in the first read: keep the read (a view, no copy) and decode it at the end.
      if (bytes.length === announced) {
        this.pieces.push(bytes);
        return;
      }
      whole = this.whole = Buffer.allocUnsafe(announced);
    }
    // The parser never hands on more than the announced length; a piece past it would be a bug, not data.
    if (this.filled + bytes.length > whole.length) throw new RangeError(`body bytes beyond the announced ${announced}`);
    this.filled += bytes.copy(whole, this.filled);
  }

  /** The body as text (UTF-8; malformed sequences become U+FFFD as a streaming decoder made them); releases the bytes. */
  text(): string {
    const { whole, pieces } = this;
    this.whole = undefined;
    this.pieces = [];
    if (whole !== undefined) return whole.toString('utf8', 0, this.filled);
    if (pieces.length === 0) return '';
    if (pieces.length === 1) return pieces[0]!.toString('utf8');
    return Buffer.concat(pieces, this.size).toString('utf8');
  }
}
