import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { awsErrorName, awsErrorText } from './client.js';
import { pullErrors } from './errors.js';
import type { ObjectDecoder, OutEvent } from './formats/decoders.js';
import type { ObjectRef } from './notifications.js';

export interface ReadObjectOptions {
  /** Gunzip even without the gzip magic bytes (`compressed_events`). */
  forceGunzip: boolean;
  /** Builds the format's decoder writing events to `out`. */
  decoder(out: (event: OutEvent) => void): ObjectDecoder;
  /** Events per emit call. */
  batchSize: number;
  /** Hands a batch on; resolves when the delivery queue accepted it (back-pressure). */
  emit(events: OutEvent[]): Promise<void>;
  signal: AbortSignal;
}

export interface ReadObjectResult {
  events: number;
  /** Bytes after decompression. */
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

async function getObject(s3: S3Client, ref: ObjectRef, signal: AbortSignal): Promise<{ body: Readable; key: string } | undefined> {
  const keys = ref.alternativeKey ? [ref.key, ref.alternativeKey] : [ref.key];
  for (const key of keys) {
    try {
      const result = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: key }), { abortSignal: signal as never });
      return { body: result.Body as Readable, key };
    } catch (error) {
      if (signal.aborted) throw error;
      if (MISSING.has(awsErrorName(error)) && key !== keys.at(-1)) continue;
      if (MISSING.has(awsErrorName(error))) return undefined;
      throw pullErrors.objectDenied(location(ref, key), awsErrorText(error));
    }
  }
  return undefined;
}

/**
 * Streams one object: download → gunzip (by magic bytes, or forced) → format decoder → batches of events.
 * Memory stays bounded by one decompressed chunk plus one batch, whatever the object's size.
 */
export async function readObject(s3: S3Client, ref: ObjectRef, options: ReadObjectOptions): Promise<ReadObjectResult> {
  const got = await getObject(s3, ref, options.signal);
  if (!got) return { events: 0, bytes: 0, compressed: false, missing: true };
  const { body, key } = got;
  const where = location(ref, key);
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let batch: OutEvent[] = [];
  let events = 0;
  let bytes = 0;
  const decoder = options.decoder((event) => {
    batch.push(event);
  });
  const flush = async () => {
    if (batch.length === 0) return;
    const full = batch;
    batch = [];
    events += full.length;
    await options.emit(full);
  };
  let compressed = false;
  try {
    // Sniff the gzip magic on the first two bytes.
    let head: Buffer = Buffer.alloc(0);
    let finished = false;
    while (head.length < 2) {
      const next = await iterator.next();
      if (next.done) {
        finished = true;
        break;
      }
      head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    }
    if (head.length === 0 && finished) return { events: 0, bytes: 0, compressed: false };
    compressed = options.forceGunzip || (head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1);
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
      bytes += chunk.length;
      decoder.push(chunk);
      if (batch.length >= options.batchSize) await flush();
    }
    decoder.end();
    await flush();
    return { events, bytes, compressed };
  } catch (error) {
    body.destroy();
    if (options.signal.aborted) throw error;
    if ((error as { type?: string }).type === 'PullError') throw error;
    throw pullErrors.objectUnreadable(where, `${(error as Error).message ?? String(error)} (after ${events} event(s), ${bytes} byte(s))`);
  }
}
