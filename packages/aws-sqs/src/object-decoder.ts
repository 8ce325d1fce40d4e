import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { OutEvent } from './formats/decoders.js';
import { isParquetHead } from './formats/parquet-magic.js';
import { RawJson } from './formats/raw-json.js';
import { forwardsRecords, recordSink, type ObjectPlan, type RecordCounters } from './pipeline.js';

/** An event as the decoder hands it on: RawJson only where `rawJson` is set (a processing thread). */
export type DecodedEvent = OutEvent | RawJson;

/**
 * The CPU side of reading a (non-Parquet) object: bytes → gunzip (by magic bytes, or forced) → the pipeline's
 * processor → record filters and tags → batches of events. It knows nothing of S3 or AWS errors, so the same
 * code runs in the collector's main thread and in a processing thread (`processing-thread.ts`).
 */
export interface DecodeOptions {
  /** Which pipeline reads the object (README "Services"), from its key. */
  plan: ObjectPlan;
  /** The object key (for `source: filename` line rules). */
  key: string;
  /** Gunzip even without the gzip magic bytes (`compressed_events`, `encoding: gzip`). */
  forceGunzip: boolean;
  /** `"@devo_pulling_id":"..."` for JSON text events. */
  suffix: string;
  /** Events per emit call. */
  batchSize: number;
  /** Hands a batch on; resolves when it may go on (back-pressure). */
  emit(events: DecodedEvent[], tag: string): Promise<void>;
  counters: RecordCounters;
  /** Forwarded JSON records may stay bytes (RawJson) when the record stage does not look at them. */
  rawJson?: boolean;
  /** Checked between chunks: true stops the read. */
  stopped(): boolean;
}

export interface DecodeResult {
  events: number;
  /** Bytes after decompression. */
  bytes: number;
  compressed: boolean;
}

/** The object is Parquet (magic bytes `PAR1`) and its pipeline reads text: PullError 312 where the error is mapped. */
export class ParquetToTextError extends Error {
  constructor() {
    super('a Parquet object reached a text processor');
  }
}

/** The object could not be read; how far it got goes into PullError 311's message. */
export class DecodeError extends Error {
  constructor(
    message: string,
    readonly events: number,
    /** Decompressed bytes read before the failure; undefined when not known (the thread died). */
    readonly bytes: number | undefined,
  ) {
    super(message);
  }
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
/**
 * zlib output chunk: large enough to amortise per-chunk work, and below the launch line's
 * MALLOC_MMAP_THRESHOLD_ (128 KiB): zlib allocates a new output buffer per chunk, which malloc then serves
 * from its heap instead of a fresh mapping (256 KiB chunks: one mmap, 64 page faults and one munmap each,
 * ~7 % more CPU per CloudTrail event; tooling/bench/aws-sqs/REPORT.md).
 */
const GUNZIP_CHUNK = 112 * 1024;
/**
 * A batch is handed on once it holds `batchSize` events or its events came from this many decompressed
 * bytes, whichever is first: with CloudTrail's ~1.5 KB records, 1000 events would be 1.5 MB a batch, and
 * every object in flight holds up to two batches between the threads and the delivery queue.
 */
export const BATCH_BYTES = 256 * 1024;

/** Events grouped by tag (a routing template may give each record its own), flushed as batches. */
export class TaggedBatches<E = OutEvent> {
  private readonly byTag = new Map<string, E[]>();
  private lastTag = '';
  private last: E[] | undefined;
  size = 0;
  emitted = 0;

  constructor(private readonly emit: (events: E[], tag: string) => Promise<void>) {}

  readonly push = (event: E, tag: string): void => {
    if (tag !== this.lastTag || !this.last) {
      this.lastTag = tag;
      this.last = this.byTag.get(tag);
      if (!this.last) this.byTag.set(tag, (this.last = []));
    }
    this.last.push(event);
    this.size++;
  };

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const batches = [...this.byTag];
    this.byTag.clear();
    this.last = undefined;
    this.size = 0;
    for (const [tag, events] of batches) {
      if (events.length === 0) continue;
      this.emitted += events.length;
      await this.emit(events, tag);
    }
  }
}

/**
 * Streams one object's bytes (as downloaded) to events. Memory stays bounded by one decompressed chunk plus
 * one batch, whatever the object's size. Throws ParquetToTextError, or DecodeError with the cause's message.
 */
export async function decodeObject(source: AsyncIterator<Buffer>, o: DecodeOptions): Promise<DecodeResult> {
  const batches = new TaggedBatches<DecodedEvent>(o.emit);
  const processor = o.plan.pipeline.processor;
  if (processor.input !== 'stream') throw new Error('decodeObject reads stream processors only');
  const out = recordSink(o.plan, o.key, batches.push, o.counters);
  // Untouched records go to `out` as RawJson (it only pushes them on to their tag).
  const raw = o.rawJson && forwardsRecords(o.plan) ? (bytes: Buffer, start: number, end: number) => out(new RawJson(bytes, start, end) as unknown as OutEvent) : undefined;
  const decoder = processor.create(o.plan.pipeline.config, { suffix: o.suffix, out, ...(raw ? { raw } : {}) });
  let bytes = 0;
  /** Decompressed bytes pushed since the last batch was handed on. */
  let sinceFlush = 0;
  try {
    // Sniff the gzip magic on the first two bytes.
    let head: Buffer = Buffer.alloc(0);
    let finished = false;
    while (head.length < 4) {
      const next = await source.next();
      if (next.done) {
        finished = true;
        break;
      }
      head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    }
    if (head.length === 0 && finished) return { events: 0, bytes: 0, compressed: false };
    const compressed = o.forceGunzip || (head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1);
    // A Parquet object is binary: a text processor would turn it into garbage events. Refuse it whole.
    if (!compressed && isParquetHead(head)) throw new ParquetToTextError();
    async function* raw(): AsyncGenerator<Buffer> {
      yield head;
      if (finished) return;
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        yield next.value;
      }
    }
    let chunks: AsyncIterable<Buffer>;
    if (compressed) {
      const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
      pipeline(Readable.from(raw(), { objectMode: false }), gunzip, () => undefined);
      chunks = gunzip;
    } else {
      chunks = raw();
    }
    for await (const chunk of chunks) {
      if (o.stopped()) throw new Error('stopped');
      if (bytes === 0 && compressed && isParquetHead(chunk)) throw new ParquetToTextError();
      bytes += chunk.length;
      sinceFlush += chunk.length;
      decoder.push(chunk);
      if (batches.size >= o.batchSize || (sinceFlush >= BATCH_BYTES && batches.size > 0)) {
        sinceFlush = 0;
        await batches.flush();
      }
    }
    decoder.end();
    await batches.flush();
    return { events: batches.emitted, bytes, compressed };
  } catch (error) {
    if (error instanceof ParquetToTextError) throw error;
    throw new DecodeError((error as Error).message ?? String(error), batches.emitted + batches.size, bytes);
  }
}
