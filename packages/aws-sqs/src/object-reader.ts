import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { EncodedBatch } from '@collector/sdk';
import type { AsyncBuffer } from 'hyparquet';
import { awsErrorName, awsErrorText } from './client.js';
import { awsSqsErrors as errors } from './errors.js';
import type { OutEvent } from './formats/decoders.js';
import { isParquetHead } from './formats/parquet-magic.js';
import type { ObjectRef } from './notifications.js';
import { DecodeError, decodeObject, ParquetToTextError, TaggedBatches, type DecodedEvent, type DecodeResult } from './object-decoder.js';
import { recordSink, type ObjectPlan, type PipelineSource, type RecordCounters } from './pipeline.js';
import type { ProcessingPool } from './processing-pool.js';
import { readParquet } from './processors/parquet.js';

export interface ReadObjectOptions {
  /** Which pipeline reads the object (README "Services"), from its key. */
  plan: ObjectPlan;
  /** What the service's pipelines are compiled from (a processing thread compiles the same). */
  source: PipelineSource;
  /** Gunzip even without the gzip magic bytes (`compressed_events`, `encoding: gzip`). */
  forceGunzip: boolean;
  /** `"@devo_pulling_id":"..."` for JSON text events. */
  suffix: string;
  /** Events per emit call. */
  batchSize: number;
  /**
   * Hands a batch on; resolves when the delivery queue accepted it (back-pressure). A processing thread's
   * batches come as bytes (EncodedBatch, which carries the tag).
   */
  emit(events: OutEvent[] | EncodedBatch, tag: string): Promise<void>;
  signal: AbortSignal;
  counters: RecordCounters;
  /** Processing threads (`processing_threads` > 0); without, the object is decoded in this thread. */
  pool: ProcessingPool | undefined;
}

export interface ReadObjectResult extends DecodeResult {
  /** Set when the object is gone (deleted after the notification): nothing to send. */
  missing?: boolean;
}

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

/**
 * Streams one object: download → gunzip (by magic bytes, or forced) → the pipeline's processor → record
 * filters and tags → batches of events, in this thread or in a processing thread (`decodeObject` either way).
 * Memory stays bounded by one decompressed chunk plus one batch, whatever the object's size. A Parquet
 * pipeline reads the object by byte ranges instead, row group by row group, in this thread.
 */
export async function readObject(s3: S3Client, ref: ObjectRef, options: ReadObjectOptions): Promise<ReadObjectResult> {
  const { plan, signal } = options;
  if (plan.pipeline.processor.input === 'random-access') return readParquetObject(s3, ref, options);
  const got = await firstExisting(ref, signal, async (key) => (await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: key }), { abortSignal: signal as never })).Body as Readable);
  if (!got) return { events: 0, bytes: 0, compressed: false, missing: true };
  const { value: body, key } = got;
  const where = location(ref, key);
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const job = { key, forceGunzip: options.forceGunzip, suffix: options.suffix, batchSize: options.batchSize };
  try {
    if (options.pool && plan.pipeline.threaded) return await options.pool.decode({ ...job, source: options.source }, chunks, options.emit, options.counters, signal);
    // Without rawJson every event is an OutEvent.
    const emit = options.emit as (events: DecodedEvent[], tag: string) => Promise<void>;
    return await decodeObject(chunks, { ...job, plan, emit, counters: options.counters, stopped: () => signal.aborted });
  } catch (error) {
    body.destroy();
    if (signal.aborted) throw error;
    if (error instanceof ParquetToTextError) throw errors.parquetToText({ location: where, processor: plan.pipeline.processorName });
    const progress = error instanceof DecodeError ? ` (after ${error.events} event(s)${error.bytes === undefined ? '' : `, ${error.bytes} byte(s)`})` : '';
    throw errors.objectUnreadable({ location: where, error: `${(error as Error).message ?? String(error)}${progress}` });
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
