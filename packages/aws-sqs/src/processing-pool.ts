import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EncodedBatch } from '@collector/sdk';
import type { OutEvent } from './formats/decoders.js';
import { DecodeError, ParquetToTextError, type DecodeResult } from './object-decoder.js';
import type { PipelineSource, RecordCounters } from './pipeline.js';

/**
 * Processing threads: gunzip, split and the record stage of objects run in worker threads, so that one
 * collector process uses the cores it has. The main thread keeps everything else: SQS, the S3 download (the
 * AWS SDK and the credentials never enter a thread), delivery and the deletes. Per object: the main thread
 * posts the downloaded (compressed) chunks, the thread posts batches of events back in order, and the main
 * thread hands each to the delivery queue before it acknowledges it, so the queue's back-pressure reaches
 * the thread and the download as it does without threads.
 */

/** One object to decode in a thread. */
export interface ThreadJob {
  source: PipelineSource;
  key: string;
  forceGunzip: boolean;
  suffix: string;
  batchSize: number;
}

export type ToThread =
  | ({ type: 'start'; id: number; sourceKey: string } & ThreadJob)
  | { type: 'data'; id: number; chunk: Uint8Array }
  | { type: 'end' | 'ack' | 'cancel'; id: number }
  | { type: 'recycle'; buffer: ArrayBuffer };

export type FromThread =
  | { type: 'batch'; id: number; tag: string; events: OutEvent[] }
  | { type: 'bytes'; id: number; tag: string; bytes: Uint8Array; ends: Uint32Array }
  | { type: 'took'; id: number; bytes: number }
  | { type: 'done'; id: number; result: DecodeResult; filtered: number }
  | { type: 'failed'; id: number; parquet: boolean; message: string; events: number; bytes: number; filtered: number };

/**
 * Compressed bytes posted to a thread and not yet taken, per object: bounds what waits in a thread's inbox
 * (gzip'd CloudTrail inflates ~10×: 256 KiB is a few batches ahead, enough to keep the thread busy).
 */
const MAX_BYTES_POSTED = 256 * 1024;
/** A thread with nothing to do ends after this long (its memory goes back); the next object starts one again. */
const IDLE_MS = 15_000;
/**
 * Each thread's V8 heap: the live data is one decompressed chunk, one batch and one record (≤ 16 MiB). The
 * young generation is what a batch's short-lived objects (a record's RawJson, the chunks it points into)
 * need to die young: with 2 MiB most were promoted and the old generation's collections cost CPU.
 */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 16 };

/** Above this many, threads add memory (each has its own heap) faster than a queue consumer gains from them. */
const MAX_DEFAULT_THREADS = 4;

/**
 * The default `processing_threads`: one per core the process may use besides the main thread's (which
 * delivers: encoding and TLS take about as much CPU as one thread's decoding), at most MAX_DEFAULT_THREADS;
 * none on a single core, where a thread would only add the cost of handing data over.
 */
export function defaultProcessingThreads(): number {
  const cores = availableParallelism();
  return cores >= 2 ? Math.min(cores - 1, MAX_DEFAULT_THREADS) : 0;
}

interface Job {
  emit(events: OutEvent[] | EncodedBatch, tag: string): Promise<void>;
  /** Records the line filters dropped, added when the thread reports them. */
  counters: RecordCounters;
  resolve(result: DecodeResult): void;
  reject(error: Error): void;
  settled: boolean;
  /** Batches are handed on one after the other, in the order the thread sent them. */
  chain: Promise<void>;
  events: number;
  posted: number;
  wake: (() => void) | undefined;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  idle: NodeJS.Timeout | undefined;
}

/** Where the thread's code is: next to this file (built), or its TypeScript source run through tsx (tests). */
function threadEntry(): { url: URL; execArgv: string[] | undefined } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./processing-thread.js', here), execArgv: undefined };
  const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
  return { url: new URL('./processing-thread.ts', here), execArgv: ['--import', tsx] };
}

export class ProcessingPool {
  private readonly slots: Slot[] = [];
  private seq = 0;
  private readonly sourceKeys = new WeakMap<PipelineSource, string>();

  constructor(private size: number) {}

  /** A service asking for more threads than the pool has grows it (the pool is per process). */
  grow(size: number): void {
    this.size = Math.max(this.size, size);
  }

  /** The live threads (the tests end one to see what a dying thread does). */
  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /**
   * Decodes one object in a thread: `source` is the downloaded bytes, `emit` hands a batch on (resolving when
   * the delivery queue took it). Rejects with ParquetToTextError or DecodeError (also when the thread dies).
   */
  decode(job: ThreadJob, source: AsyncIterator<Buffer>, emit: Job['emit'], counters: RecordCounters, signal: AbortSignal): Promise<DecodeResult> {
    const slot = this.pick();
    const id = ++this.seq;
    let sourceKey = this.sourceKeys.get(job.source);
    if (sourceKey === undefined) this.sourceKeys.set(job.source, (sourceKey = JSON.stringify(job.source)));
    const done = new Promise<DecodeResult>((resolve, reject) => {
      const entry: Job = { emit, counters, resolve, reject, settled: false, chain: Promise.resolve(), events: 0, posted: 0, wake: undefined };
      slot.jobs.set(id, entry);
      slot.worker.postMessage({ type: 'start', id, sourceKey, ...job } satisfies ToThread);
      void this.pump(slot, id, entry, source);
    });
    // A stop ends the object at once (the message is released), as between two chunks without threads.
    const stop = () => this.fail(slot, id, new Error('stopped'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    return done.finally(() => {
      signal.removeEventListener('abort', stop);
      slot.jobs.delete(id);
      if (slot.jobs.size === 0) this.rest(slot);
    });
  }

  /**
   * A batch's buffer the delivery is done with (its events were acknowledged, or failed): moved back to a
   * thread, which fills it with a later batch instead of allocating one.
   */
  recycle(batch: EncodedBatch): void {
    const slot = this.slots[0];
    const { buffer, byteOffset } = batch.bytes;
    if (!slot || byteOffset !== 0 || !(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
    slot.worker.postMessage({ type: 'recycle', buffer } satisfies ToThread, [buffer]);
  }

  /** Posts the downloaded chunks, at most MAX_BYTES_POSTED ahead of what the thread took. */
  private async pump(slot: Slot, id: number, job: Job, source: AsyncIterator<Buffer>): Promise<void> {
    try {
      for (;;) {
        const next = await source.next();
        if (job.settled) return;
        if (next.done) break;
        while (job.posted > MAX_BYTES_POSTED && !job.settled) await new Promise<void>((wake) => (job.wake = wake));
        if (job.settled) return;
        job.posted += next.value.length;
        // A copy in its own ArrayBuffer, moved (not cloned): a downloaded chunk is often a view of a larger
        // socket buffer, which a clone would copy whole.
        const chunk = new Uint8Array(next.value.length);
        chunk.set(next.value);
        slot.worker.postMessage({ type: 'data', id, chunk } satisfies ToThread, [chunk.buffer]);
      }
      slot.worker.postMessage({ type: 'end', id } satisfies ToThread);
    } catch (error) {
      // The download failed (connection lost mid-object): the thread stops reading it.
      this.fail(slot, id, new DecodeError(`${(error as Error).message ?? String(error)}`, job.events, undefined));
    }
  }

  private fail(slot: Slot, id: number, error: Error): void {
    const job = slot.jobs.get(id);
    if (!job || job.settled) return;
    job.settled = true;
    job.wake?.();
    slot.worker.postMessage({ type: 'cancel', id } satisfies ToThread);
    job.reject(error);
  }

  private onMessage(slot: Slot, m: FromThread): void {
    const job = slot.jobs.get(m.id);
    if (!job || job.settled) return;
    switch (m.type) {
      case 'took':
        job.posted -= m.bytes;
        job.wake?.();
        job.wake = undefined;
        return;
      case 'batch':
      case 'bytes':
        job.chain = job.chain.then(async () => {
          if (job.settled) return;
          // A `bytes` batch goes on as it is: the main thread makes no string per event.
          const events = m.type === 'batch' ? m.events : new EncodedBatch(m.tag, m.bytes, m.ends);
          try {
            await job.emit(events, m.tag);
          } catch (error) {
            this.fail(slot, m.id, error as Error);
            return;
          }
          job.events += events.length;
          slot.worker.postMessage({ type: 'ack', id: m.id } satisfies ToThread);
        });
        return;
      case 'done':
        void job.chain.then(() => {
          if (job.settled) return;
          job.settled = true;
          job.counters.filtered += m.filtered;
          job.resolve(m.result);
        });
        return;
      case 'failed':
        job.settled = true;
        job.counters.filtered += m.filtered;
        job.reject(m.parquet ? new ParquetToTextError() : new DecodeError(m.message, m.events, m.bytes));
    }
  }

  /** The least busy thread; a new one while the pool is not full and every thread has work. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const slot of this.slots) if (!best || slot.jobs.size < best.jobs.size) best = slot;
    if (best && (best.jobs.size === 0 || this.slots.length >= this.size)) {
      if (best.idle) clearTimeout(best.idle);
      best.idle = undefined;
      best.worker.ref();
      return best;
    }
    return this.start();
  }

  private start(): Slot {
    const { url, execArgv } = threadEntry();
    const worker = new Worker(url, { execArgv, resourceLimits: THREAD_LIMITS, name: 'aws-sqs-processing', stdout: false, stderr: false });
    const slot: Slot = { worker, jobs: new Map(), idle: undefined };
    worker.on('message', (m: FromThread) => this.onMessage(slot, m));
    // A thread that dies (an uncaught exception, out of memory, terminated) fails its objects: PullError 311,
    // the messages stay on the queue. The next object starts a new thread.
    worker.on('error', (error) => this.lost(slot, `the processing thread failed: ${error.message}`));
    worker.on('exit', (code) => this.lost(slot, `the processing thread exited (code ${code})`));
    this.slots.push(slot);
    return slot;
  }

  private lost(slot: Slot, why: string): void {
    const at = this.slots.indexOf(slot);
    if (at !== -1) this.slots.splice(at, 1);
    if (slot.idle) clearTimeout(slot.idle);
    for (const [id, job] of slot.jobs) {
      if (job.settled) continue;
      job.settled = true;
      job.wake?.();
      job.reject(new DecodeError(why, job.events, undefined));
      slot.jobs.delete(id);
    }
  }

  /** An idle thread does not keep the process alive, and ends after IDLE_MS. */
  private rest(slot: Slot): void {
    slot.worker.unref();
    slot.idle = setTimeout(() => {
      if (slot.jobs.size === 0) void slot.worker.terminate();
    }, IDLE_MS);
    slot.idle.unref();
  }
}

let shared: ProcessingPool | undefined;

/** The process's pool, grown to `threads` (services share it: the largest `processing_threads` wins). */
export function processingPool(threads: number): ProcessingPool {
  if (!shared) shared = new ProcessingPool(threads);
  else shared.grow(threads);
  return shared;
}
