import { StringDecoder } from 'node:string_decoder';

/**
 * A response body gathered as bytes and decoded to text once, at its end, into one flat string.
 *
 * Decoding each read as it arrives (a `StringDecoder` per read, appended) makes every page a rope of 16–64 KiB
 * pieces that the page scanner's first search then flattens: a second copy of the page, and `charCodeAt`
 * through the runtime instead of inline until it is flat (docs/benchmarks.md, wave 9). One decode of the whole
 * body gives a flat string from the start.
 *
 * The bytes go into one Buffer reused from body to body (`Scratch`), not a new one per body: the collectors'
 * launch line (`MALLOC_MMAP_THRESHOLD_=131072`) makes every Buffer of 128 KiB or more a mapping of its own, so
 * a new Buffer per page is fresh memory the kernel faults in and zeroes page by page; with the string's own
 * allocation that was two fresh copies of every page against the rope's one, and cost more than the rope
 * (wave 10: `Buffer.concat` and the decode 0.66 s of a Darktrace run against 0.6 s for the flatten and the
 * per-read decode). The scratch Buffer is let go one second after its last body, so an idle collector does not
 * keep it. A body the scratch cannot take (larger than SCRATCH_MAX_BYTES, or while another body in flight has
 * it) is decoded read by read as before.
 */

/**
 * Bodies up to this size are gathered in the scratch Buffer; larger ones are decoded as they are read. Below
 * Node's threshold for external strings (0xFBEE9 bytes), so the text is an ordinary V8 string as the rope's
 * flattened copy was. With 4 MiB, Microsoft 365 (1.6 MB pages) was faster in 3 of 3 pairs, but Darktrace
 * slower in 3 of 3 (+2 to +9 %) and Proofpoint's peak 1–8 MiB higher (the scratch held at its largest page):
 * docs/benchmarks.md, wave 10.
 */
export const SCRATCH_MAX_BYTES = 1_000_000;
/** The scratch Buffer is dropped this long after its last use (an idle collector does not hold it). */
const SCRATCH_IDLE_MS = 1_000;
/** Sizes are rounded up to this, so pages of about the same size reuse one Buffer. */
const SCRATCH_GRAIN = 16 * 1024;

/** The one reusable Buffer of the process, lent to one body at a time. */
const scratch = {
  buffer: undefined as Buffer | undefined,
  lent: false,
  timer: undefined as NodeJS.Timeout | undefined,
};

function releaseScratch(): void {
  scratch.lent = false;
  if (scratch.timer) scratch.timer.refresh();
  else {
    scratch.timer = setTimeout(() => {
      scratch.timer = undefined;
      if (!scratch.lent) scratch.buffer = undefined;
    }, SCRATCH_IDLE_MS);
    scratch.timer.unref();
  }
}

/** A scratch Buffer of at least `size` bytes (grown, keeping `keep` bytes), or undefined when size is over the bound. */
function scratchOf(size: number, keep: number): Buffer | undefined {
  if (size > SCRATCH_MAX_BYTES) return undefined;
  const current = scratch.buffer;
  if (current !== undefined && current.length >= size) return current;
  const grown = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX_BYTES, Math.ceil(Math.max(size, (current?.length ?? 0) * 2) / SCRATCH_GRAIN) * SCRATCH_GRAIN));
  if (current !== undefined && keep > 0) current.copy(grown, 0, 0, keep);
  scratch.buffer = grown;
  return grown;
}

export class ResponseBody {
  /** Bytes read so far, over every piece. */
  size = 0;
  /** Whether this body holds the scratch Buffer (its bytes are `scratch.buffer[0, size)`). */
  private holding = false;
  /** The read-by-read decoding, once the scratch could not (or could no longer) take the body. */
  private decoder: StringDecoder | undefined;
  private streamed = '';

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
    const before = this.size;
    this.size += bytes.length;
    if (this.size > this.maxBytes || (announced !== undefined && announced > this.maxBytes)) throw this.tooLarge();
    if (this.decoder === undefined) {
      if (before === 0 && !scratch.lent) {
        // The first piece: take the scratch for the whole body when it can hold it (announced or not yet known).
        if (scratchOf(announced ?? this.size, 0) !== undefined) {
          scratch.lent = true;
          this.holding = true;
        }
      }
      if (this.holding) {
        const buffer = scratchOf(this.size, before);
        if (buffer !== undefined) {
          bytes.copy(buffer, before);
          return;
        }
        // Grew past the bound (a body without length): what is held so far is decoded, the rest streamed.
        this.decoder = new StringDecoder('utf8');
        this.streamed = this.decoder.write(scratch.buffer!.subarray(0, before));
        this.holding = false;
        releaseScratch();
      } else {
        this.decoder = new StringDecoder('utf8');
      }
    }
    this.streamed += this.decoder.write(bytes);
  }

  /** The body as text (UTF-8; malformed sequences become U+FFFD as a streaming decoder made them); ends the body. */
  text(): string {
    if (this.holding) {
      this.holding = false;
      const text = scratch.buffer!.toString('utf8', 0, this.size);
      releaseScratch();
      return text;
    }
    return this.decoder === undefined ? '' : this.streamed + this.decoder.end();
  }

  /** Gives the scratch back without a text (the exchange failed). */
  discard(): void {
    if (!this.holding) return;
    this.holding = false;
    releaseScratch();
  }
}
