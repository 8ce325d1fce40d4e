import { EncodedBatch } from '../delivery/encoded-batch.js';
import type { EventEncoder, MessageWriter } from './event-encoding.js';
import { freeArrayBuffer, takeSpare } from './free-buffer.js';

/** A batch's first buffer when nothing was cut yet; later ones start at the size the last batch needed. */
const FIRST_BUFFER_BYTES = 256 * 1024;
/** Buffer sizes are multiples of this. */
const BUFFER_STEP = 64 * 1024;
/**
 * Buffers of acknowledged batches kept for the next ones, shared by every runner of the process (a service
 * has one filling, one cut ahead and one in flight at most, and services take turns).
 */
const SPARES_KEPT = 4;
const spare: { bytes: Buffer; ends: Uint32Array }[] = [];

/** Frees a batch buffer this module allocated whole (allocUnsafeSlow) and nothing reads any more (see freeArrayBuffer). */
export function discard(bytes: Buffer): void {
  freeArrayBuffer(bytes.buffer);
}

/** A batch being filled: messages back to back in one buffer, where each ends, its tag runs and dedup keys. */
interface Filling {
  bytes: Buffer;
  ends: Uint32Array;
  count: number;
  /** Bytes written so far (the end of the last message, or more while one is being written). */
  at: number;
  /** The tag of each run of events and the index of its first event. */
  tags: string[];
  runStarts: number[];
  keys: string[];
}

/**
 * Events of one runner waiting to be submitted, as UTF-8 bytes: batches of at most `batchSize` events (or
 * about `maxBatchBytes`), each ONE buffer that the event encoder writes into, cut oldest first. What waits
 * for its acknowledgement is then a buffer per batch outside the JS heap, not a string per event that every
 * scavenge copies and promotes. The buffers of acknowledged batches are reused (see release()).
 */
export class EncodedQueue implements MessageWriter {
  private readonly filling: Filling[] = [];
  /** The batch `write` appends to (the last one, while push() runs). */
  private current: Filling | undefined;
  /** The size a new batch's buffer starts at: what the last batch cut needed, rounded up. */
  private bufferBytes = FIRST_BUFFER_BYTES;
  /** The bytes of the last batch cut (bufferBytes without its slack and rounding). */
  private lastBatchBytes = 0;
  /** Events queued. */
  length = 0;
  /** Events ever queued (a running count). */
  pushed = 0;

  constructor(
    private readonly batchSize: number,
    private readonly maxBatchBytes: number,
  ) {}

  /** A whole batch waits: the oldest one has `batchSize` events or `maxBatchBytes`. */
  get full(): boolean {
    return this.wholeBatches > 0;
  }

  /** Batches that have `batchSize` events or `maxBatchBytes` (every batch but the last one being filled). */
  get wholeBatches(): number {
    const n = this.filling.length;
    return n > 0 && !this.isFull(this.filling[n - 1]!) ? n - 1 : n;
  }

  /**
   * Appends the message of `event` (as `encoder.encodeInto` writes it) under `tag`, with its dedup key. A
   * message the encoder fails on (JSON.stringify throws) leaves nothing behind.
   */
  push(tag: string, event: unknown, key: string | undefined, encoder: EventEncoder): void {
    let f = this.filling.at(-1);
    if (f === undefined || this.isFull(f)) this.filling.push((f = this.open()));
    if (f.count === 0 || f.tags.at(-1) !== tag) {
      f.tags.push(tag);
      f.runStarts.push(f.count);
    }
    const start = f.at;
    this.current = f;
    try {
      encoder.encodeInto(event, this);
    } catch (error) {
      f.at = start;
      if (f.runStarts.at(-1) === f.count) {
        f.tags.pop();
        f.runStarts.pop();
      }
      throw error;
    } finally {
      this.current = undefined;
    }
    f.ends[f.count++] = f.at;
    if (key !== undefined) f.keys.push(key);
    this.length++;
    this.pushed++;
  }

  write(part: string | Uint8Array): void {
    const f = this.current!;
    if (typeof part !== 'string') {
      this.reserve(f, part.length);
      f.bytes.set(part, f.at);
      f.at += part.length;
      return;
    }
    let written = f.bytes.write(part, f.at);
    // Buffer#write stops short of a character that does not fit: only then is the room left below 4 bytes.
    if (f.bytes.length - f.at - written < 4) {
      const size = Buffer.byteLength(part);
      if (written < size) {
        this.reserve(f, size);
        written = f.bytes.write(part, f.at);
      }
    }
    f.at += written;
  }

  drop(bytes: number): void {
    this.current!.at -= bytes;
  }

  /**
   * Takes the oldest batch (a partly filled one too): one EncodedBatch per run of one tag, sharing its
   * buffer. Undefined when nothing is queued.
   */
  cut(): QueuedBatch | undefined {
    const f = this.filling.shift();
    if (f === undefined) return undefined;
    this.length -= f.count;
    this.bufferBytes = Math.max(FIRST_BUFFER_BYTES, roundUp(f.at + (f.at >> 3)));
    this.lastBatchBytes = f.at;
    const parts = f.tags.map((tag, r) => {
      const first = f.runStarts[r]!;
      const end = r + 1 < f.runStarts.length ? f.runStarts[r + 1]! : f.count;
      return new EncodedBatch(tag, f.bytes, f.ends.subarray(first, end), first === 0 ? 0 : f.ends[first - 1]!);
    });
    return new QueuedBatch(parts.length === 1 ? parts[0]! : parts, f.count, f.at, f.keys, () => this.reuse(f));
  }

  /** Lets go of the spare buffers (after a pull: an idle daemon keeps none; the pulls still running make more). */
  dropSpares(): void {
    for (const s of spare.splice(0)) discard(s.bytes);
    this.bufferBytes = FIRST_BUFFER_BYTES;
    this.lastBatchBytes = 0;
  }

  private isFull(f: Filling): boolean {
    return f.count >= this.batchSize || f.at >= this.maxBatchBytes;
  }

  /**
   * A buffer for a new batch: the smallest spare of `bufferBytes` or more; else the largest spare, used as it is
   * when it holds a batch as big as the last one (reserve() grows it in the rare batch that needs more), freed
   * and made again at `bufferBytes` otherwise. A spare is never left aside for a new buffer: one a little
   * smaller than the last batch's size plus its slack (3.25 MiB for 3.31 at 2000 Proofpoint events) used to
   * stay unused as a spare, resident beside the new one, for the whole pull (docs/benchmarks.md, wave 14).
   * So the buffers never outnumber the batches in use at once.
   */
  private open(): Filling {
    const taken = takeSpare(spare, this.bufferBytes, (s) => s.bytes.length);
    let bytes = taken?.bytes;
    if (bytes === undefined || bytes.length < this.lastBatchBytes) {
      if (bytes !== undefined) discard(bytes);
      bytes = Buffer.allocUnsafeSlow(this.bufferBytes);
    }
    const ends = taken !== undefined && taken.ends.length >= this.batchSize ? taken.ends : new Uint32Array(this.batchSize);
    return { bytes, ends, count: 0, at: 0, tags: [], runStarts: [], keys: [] };
  }

  /**
   * Room for `size` more bytes at `f.at`: a bigger buffer with what was written copied over, the old one
   * freed. Sized for the whole batch at the average size of the messages so far (+1/8), so a first batch of
   * 1.5 KB events grows once (256 KiB to ~1.8 MiB) instead of through 512 KiB, 1 MiB and 2 MiB.
   */
  private reserve(f: Filling, size: number): void {
    if (f.bytes.length - f.at >= size) return;
    const whole = f.count > 0 ? Math.min(this.maxBatchBytes, (f.at / f.count) * this.batchSize) * 1.125 : 0;
    const bigger = Buffer.allocUnsafeSlow(roundUp(Math.max(f.bytes.length * 1.5, f.at + size, whole)));
    f.bytes.copy(bigger, 0, 0, f.at);
    discard(f.bytes);
    f.bytes = bigger;
  }

  /** Keeps an acknowledged batch's buffer, in place of a smaller spare when there are enough; frees the one not kept. */
  private reuse(f: Filling): void {
    const entry = { bytes: f.bytes, ends: f.ends };
    if (spare.length < SPARES_KEPT) {
      spare.push(entry);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < spare.length; i++) if (spare[i]!.bytes.length < spare[smallest]!.bytes.length) smallest = i;
    if (spare[smallest]!.bytes.length < f.bytes.length) {
      discard(spare[smallest]!.bytes);
      spare[smallest] = entry;
    } else {
      discard(f.bytes);
    }
  }
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / BUFFER_STEP) * BUFFER_STEP;
}

/** A batch cut from an EncodedQueue: what is submitted, and what its acknowledgement needs. */
export class QueuedBatch {
  constructor(
    /** One EncodedBatch, or one per run of one tag (submitted together, acknowledged together). */
    readonly submission: EncodedBatch | readonly EncodedBatch[],
    readonly count: number,
    /** The UTF-8 bytes of its messages. */
    readonly byteLength: number,
    /** The dedup keys of its events that have one. */
    readonly keys: readonly string[],
    private onRelease: (() => void) | undefined,
  ) {}

  /**
   * Every output acknowledged the batch: its buffer may take a later batch's events. Never before (the
   * delivery reads the bytes until then), and not after a failed delivery. Once only.
   */
  release(): void {
    const release = this.onRelease;
    this.onRelease = undefined;
    release?.();
  }
}
