import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { AsyncBuffer } from 'hyparquet';
import { awsErrorName, awsErrorText } from './client.js';
import { awsSqsErrors as errors } from './errors.js';
import type { OutEvent } from './formats/decoders.js';
import type { ObjectRef } from './notifications.js';
import { recordSink, type ObjectPlan, type RecordCounters } from './pipeline.js';
import { isParquetHead, readParquet } from './processors/parquet.js';

export interface ReadObjectOptions {
  /** Which pipeline reads the object (README "Services"), from its key. */
  plan: ObjectPlan;
  /** Gunzip even without the gzip magic bytes (`compressed_events`, `encoding: gzip`). */
  forceGunzip: boolean;
  /** `"@devo_pulling_id":"..."` for JSON text events. */
  suffix: string;
  /** Events per emit call. */
  batchSize: number;
  /** Hands a batch on; resolves when the delivery queue accepted it (back-pressure). */
  emit(events: OutEvent[], tag: string): Promise<void>;
  signal: AbortSignal;
  counters: RecordCounters;
}

export interface ReadObjectResult {
  events: number;
  /** Bytes after decompression (Parquet: the object's size). */
  bytes: number;
  compressed: boolean;
  /** Set when the object is gone (deleted after the notification): nothing to send. */
  missing?: boolean;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
/** zlib output chunk: large enough to amortise per-chunk work, small enough to keep memory flat. */
const GUNZIP_CHUNK = 256 * 1024;

const MISSING = new Set(['NoSuchKey', 'NotFound']);

function location(ref: ObjectRef, key = ref.key): string {
  return `s3://${ref.bucket}/${key}`;
}

/** Tries the key as announced, then its other spelling; undefined when the object is gone. */
async function firstExisting<T>(ref: ObjectRef, signal: AbortSignal, get: (key: string) => Promise<T>): Promise<{ value: T; key: string } | undefined> {
  const keys = ref.alternativeKey ? [ref.key, ref.alternativeKey] : [ref.key];
  for (const key of keys) {
    try {
      return { value: await get(key), key };
    } catch (error) {
      if (signal.aborted) throw error;
      if (MISSING.has(awsErrorName(error)) && key !== keys.at(-1)) continue;
      if (MISSING.has(awsErrorName(error))) return undefined;
      throw errors.objectDenied({ location: location(ref, key), error: awsErrorText(error) });
    }
  }
  return undefined;
}

/** Events grouped by tag (a routing template may give each record its own), flushed as batches. */
class TaggedBatches {
  private readonly byTag = new Map<string, OutEvent[]>();
  private lastTag = '';
  private last: OutEvent[] | undefined;
  size = 0;
  emitted = 0;

  constructor(private readonly emit: (events: OutEvent[], tag: string) => Promise<void>) {}

  readonly push = (event: OutEvent, tag: string): void => {
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
 * Streams one object: download → gunzip (by magic bytes, or forced) → the pipeline's processor → record
 * filters and tags → batches of events. Memory stays bounded by one decompressed chunk plus one batch,
 * whatever the object's size. A Parquet pipeline reads the object by byte ranges instead, row group by row group.
 */
export async function readObject(s3: S3Client, ref: ObjectRef, options: ReadObjectOptions): Promise<ReadObjectResult> {
  const { plan } = options;
  if (plan.pipeline.processor.input === 'random-access') return readParquetObject(s3, ref, options);
  const got = await firstExisting(ref, options.signal, async (key) => (await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: key }), { abortSignal: options.signal as never })).Body as Readable);
  if (!got) return { events: 0, bytes: 0, compressed: false, missing: true };
  const { value: body, key } = got;
  const where = location(ref, key);
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const batches = new TaggedBatches(options.emit);
  const sink = recordSink(plan, key, batches.push, options.counters);
  const processor = plan.pipeline.processor;
  if (processor.input !== 'stream') throw new Error('unreachable');
  const decoder = processor.create(plan.pipeline.config, { suffix: options.suffix, out: sink });
  let bytes = 0;
  let compressed = false;
  try {
    // Sniff the gzip magic on the first two bytes.
    let head: Buffer = Buffer.alloc(0);
    let finished = false;
    while (head.length < 4) {
      const next = await iterator.next();
      if (next.done) {
        finished = true;
        break;
      }
      head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    }
    if (head.length === 0 && finished) return { events: 0, bytes: 0, compressed: false };
    compressed = options.forceGunzip || (head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1);
    // A Parquet object is binary: a text processor would turn it into garbage events. Refuse it whole.
    if (!compressed && isParquetHead(head)) throw errors.parquetToText({ location: where, processor: plan.pipeline.processorName });
    async function* raw(): AsyncGenerator<Buffer> {
      yield head;
      if (finished) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    }
    let source: AsyncIterable<Buffer>;
    if (compressed) {
      const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
      pipeline(Readable.from(raw(), { objectMode: false }), gunzip, () => undefined);
      source = gunzip;
    } else {
      source = raw();
    }
    for await (const chunk of source) {
      if (options.signal.aborted) throw new Error('stopped');
      if (bytes === 0 && compressed && isParquetHead(chunk)) throw errors.parquetToText({ location: where, processor: plan.pipeline.processorName });
      bytes += chunk.length;
      decoder.push(chunk);
      if (batches.size >= options.batchSize) await batches.flush();
    }
    decoder.end();
    await batches.flush();
    return { events: batches.emitted, bytes, compressed };
  } catch (error) {
    body.destroy();
    if (options.signal.aborted) throw error;
    if ((error as { type?: string }).type === 'PullError') throw error;
    throw errors.objectUnreadable({ location: where, error: `${(error as Error).message ?? String(error)} (after ${batches.emitted + batches.size} event(s), ${bytes} byte(s))` });
  }
}

/** An S3 object as hyparquet's random-access file: every slice is one ranged GetObject. */
function s3File(s3: S3Client, bucket: string, key: string, size: number, signal: AbortSignal): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end = size) {
      if (end <= start) return new ArrayBuffer(0);
      const result = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }), { abortSignal: signal as never });
      const bytes = await result.Body!.transformToByteArray();
      // The body's own buffer when it is exactly the range (no copy), else a copy of the range.
      return (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
    },
  };
}

async function readParquetObject(s3: S3Client, ref: ObjectRef, options: ReadObjectOptions): Promise<ReadObjectResult> {
  const got = await firstExisting(ref, options.signal, async (key) => (await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: key }), { abortSignal: options.signal as never })).ContentLength ?? 0);
  if (!got) return { events: 0, bytes: 0, compressed: false, missing: true };
  const { value: size, key } = got;
  const where = location(ref, key);
  const file = s3File(s3, ref.bucket, key, size, options.signal);
  const batches = new TaggedBatches(options.emit);
  const sink = recordSink(options.plan, key, batches.push, options.counters);
  try {
    if (size < 12 || !isParquetHead(Buffer.from(await file.slice(0, 4)))) throw errors.notParquet({ location: where });
    await readParquet(
      file,
      options.suffix,
      async (rows) => {
        for (const row of rows) {
          sink(row);
          if (batches.size >= options.batchSize) await batches.flush();
        }
        await batches.flush();
      },
      options.signal,
      options.batchSize,
    );
    return { events: batches.emitted, bytes: size, compressed: false };
  } catch (error) {
    if (options.signal.aborted) throw error;
    if ((error as { type?: string }).type === 'PullError') throw error;
    throw errors.objectUnreadable({ location: where, error: `${(error as Error).message ?? String(error)} (after ${batches.emitted} event(s))` });
  }
}
