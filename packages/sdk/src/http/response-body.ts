import { StringDecoder } from 'node:string_decoder';

/**
 * A response body decoded (UTF-8) read by read as it arrives, under the client's size limit.
 *
 * Each read is decoded and let go: no page exists as one Buffer. Decoding the whole body once, from one Buffer,
 * gives a flat string without the rope the scanner later flattens, and was tried in wave 10 (commit
 * fede8f1 in this history, docs/benchmarks.md): a new Buffer per body lost (the launch line's
 * `MALLOC_MMAP_THRESHOLD_` makes each one fresh mapped memory, faulted in page by page), and one Buffer reused
 * from body to body was faster for Lark and Microsoft 365 in one run but raised Darktrace's and Proofpoint's
 * peak RSS by 12–15 MiB in another; not kept.
 */
export class ResponseBody {
  /** Bytes read so far, over every piece. */
  size = 0;
  private readonly decoder = new StringDecoder('utf8');
  private text_ = '';

  /**
   * `maxBytes`: a larger body (announced or read) is refused with `tooLarge()`: a response whose Content-Length
   * announces more fails at its first bytes instead of after reading up to the limit.
   */
  constructor(
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
  ) {}

  /** One piece of the body as read; `announced` is the head's Content-Length when it framed the body. */
  add(bytes: Buffer, announced: number | undefined): void {
    this.size += bytes.length;
    if (this.size > this.maxBytes || (announced !== undefined && announced > this.maxBytes)) throw this.tooLarge();
    this.text_ += this.decoder.write(bytes);
  }

  /**
   * The body as text (malformed UTF-8 sequences become U+FFFD), once: this object is made when the request is
   * sent and may be old by the time the answer is complete, so it lets go of the text it hands over (an old
   * holder keeps a page alive through every scavenge; see `Answer` in http-client.ts).
   */
  text(): string {
    const text = this.text_ + this.decoder.end();
    this.text_ = '';
    return text;
  }
}
