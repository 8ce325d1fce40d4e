/**
 * A processing thread (`processing-pool.ts`): decodes the objects the main thread streams to it, with the same
 * code as the main thread (`decodeObject`), and posts their events back batch by batch. It never talks to
 * AWS and holds no credentials: the main thread downloads.
 */
import { parentPort } from 'node:worker_threads';
import { decodeText } from './formats/decode.js';
import { RawJson } from './formats/raw-json.js';
import { appendFields } from './formats/serialize.js';
import { decodeObject, DecodeError, ParquetToTextError, type DecodedEvent } from './object-decoder.js';
import { ServicePipeline, type PipelineSource } from './pipeline.js';
import type { FromThread, ToThread } from './processing-pool.js';

/** Batches posted and not yet acknowledged, per object: the main thread's delivery queue sets the pace. */
const BATCHES_AHEAD = 2;
/** Compiled pipelines kept (one per service and cycle's options; a few in practice). */
const PIPELINES_KEPT = 32;
/**
 * Objects decoded at the same time in one thread. A thread decodes one chunk at a time whatever the number
 * of objects, so more objects side by side only add what each holds (its inflater, the batch it builds, the
 * batches it posted, the batch of strings waiting in the main thread, all of which the main thread's heap
 * keeps several times over until its next full collection): with CloudTrail, max_messages_in_flight objects
 * side by side took ~60 MiB more peak RSS than two. The others wait with at most MAX_BYTES_POSTED of their
 * download here (their messages stay in flight and their downloads started, so small objects are not
 * delayed by the S3 round trip).
 */
const DECODING_AT_ONCE = 2;
/**
 * A waiting object starts after this long anyway: its download sits idle meanwhile, and the S3 connection's
 * idle timeout (`requestTimeout`, 120 s) must not end it behind a few very large objects.
 */
const MAX_WAIT_MS = 30_000;

interface Input {
  chunks: Buffer[];
  ended: boolean;
  cancelled: boolean;
  unacked: number;
  /**
   * Woken when a chunk, the end, an acknowledgement or a cancel arrives: the gunzip stream may wait for a
   * chunk while the decoder waits for an acknowledgement, so there can be two.
   */
  waiting: (() => void)[];
}

const port = parentPort!;
const inputs = new Map<number, Input>();
const pipelines = new Map<string, ServicePipeline>();

/**
 * A batch of text events as UTF-8 bytes in one buffer that is moved (not copied) to the main thread, which
 * hands it to the SDK as it is (an EncodedBatch): no string per event is made in either thread. UTF-8
 * round-trips every string the processors make (they hold no lone surrogates), and a record is forwarded
 * as bytes only when it is valid UTF-8 (JsonDecoder.unit). A batch with an object (a processor that builds
 * records) is cloned.
 */
function post(message: FromThread, transfer?: ArrayBuffer[]): void {
  port.postMessage(message, transfer);
}

/**
 * Buffers of batches the main thread is done with (delivered), sent back to be filled again: a new
 * ~256 KiB buffer per batch was a fresh mapping for malloc (page faults) and external memory for V8 in both
 * threads (full collections).
 */
const spare: ArrayBuffer[] = [];
const SPARES_KEPT = 8;
/** New batch buffers are rounded up to this, so that a recycled one fits the next batches. */
const BUFFER_STEP = 64 * 1024;

/** A buffer of at least `size` bytes, in its own ArrayBuffer (so that it can be moved). */
function batchBuffer(size: number): Buffer<ArrayBuffer> {
  const at = spare.findIndex((b) => b.byteLength >= size);
  if (at !== -1) return Buffer.from(spare.splice(at, 1)[0]!);
  return Buffer.from(new ArrayBuffer(Math.ceil(size / BUFFER_STEP) * BUFFER_STEP));
}

function postBatch(id: number, tag: string, events: DecodedEvent[], suffix: string, suffixBytes: Buffer): void {
  let room = 0;
  for (const event of events) {
    if (event instanceof RawJson) room += event.size(suffixBytes);
    else if (typeof event === 'string') room += event.length;
    else return post({ type: 'batch', id, tag, events: events.map((e) => (e instanceof RawJson ? appendFields(decodeText(e.bytes, e.start, e.end), suffix) : e)) });
  }
  let bytes = batchBuffer(room + 4096);
  const ends = new Uint32Array(events.length);
  let at = 0;
  let left = room; // what `room` counted for the events not written yet
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as string | RawJson;
    if (event instanceof RawJson) {
      at += event.writeTo(bytes, at, suffixBytes);
      left -= event.size(suffixBytes);
    } else {
      // A string of n characters takes n to 3n bytes; `room` counted n.
      left -= event.length;
      if (bytes.length - at < event.length * 3) {
        const need = at + Buffer.byteLength(event) + left + 4096;
        if (need > bytes.length) {
          const larger = batchBuffer(need);
          bytes.copy(larger, 0, 0, at);
          bytes = larger;
        }
      }
      at += bytes.write(event, at);
    }
    ends[i] = at;
  }
  post({ type: 'bytes', id, tag, bytes, ends }, [bytes.buffer as ArrayBuffer, ends.buffer]);
}

function pipelineOf(key: string, source: PipelineSource): ServicePipeline {
  let pipeline = pipelines.get(key);
  if (!pipeline) {
    pipeline = ServicePipeline.resolve(source.declaration, source.raw, source.queue, source.path, source.vpcFields);
    if (pipelines.size >= PIPELINES_KEPT) pipelines.delete(pipelines.keys().next().value!);
    pipelines.set(key, pipeline);
  }
  return pipeline;
}

let decoding = 0;
const waitingToDecode: (() => void)[] = [];

/** Waits for one of the DECODING_AT_ONCE places (at most MAX_WAIT_MS); `done` gives it back. */
function decodingPlace(): Promise<void> {
  if (decoding < DECODING_AT_ONCE) {
    decoding++;
    return Promise.resolve();
  }
  return new Promise((go) => {
    const start = () => {
      clearTimeout(timer);
      const at = waitingToDecode.indexOf(start);
      if (at !== -1) waitingToDecode.splice(at, 1);
      decoding++;
      go();
    };
    const timer = setTimeout(start, MAX_WAIT_MS);
    waitingToDecode.push(start);
  });
}

function decodingDone(): void {
  decoding--;
  waitingToDecode.shift()?.();
}

function waitFor(input: Input): Promise<void> {
  return new Promise((wake) => input.waiting.push(wake));
}

async function run(m: Extract<ToThread, { type: 'start' }>): Promise<void> {
  const { id } = m;
  const input: Input = { chunks: [], ended: false, cancelled: false, unacked: 0, waiting: [] };
  inputs.set(id, input);
  const source: AsyncIterator<Buffer> = {
    async next() {
      for (;;) {
        if (input.cancelled) throw new Error('stopped');
        const chunk = input.chunks.shift();
        if (chunk) {
          post({ type: 'took', id, bytes: chunk.length });
          return { value: chunk, done: false };
        }
        if (input.ended) return { value: undefined, done: true };
        await waitFor(input);
      }
    },
  };
  const counters = { filtered: 0 };
  const suffixBytes = Buffer.from(m.suffix);
  await decodingPlace();
  try {
    const plan = pipelineOf(m.sourceKey, m.source).plan(m.key);
    const result = await decodeObject(source, {
      plan,
      key: m.key,
      forceGunzip: m.forceGunzip,
      suffix: m.suffix,
      batchSize: m.batchSize,
      counters,
      rawJson: true,
      stopped: () => input.cancelled,
      async emit(events, tag) {
        postBatch(id, tag, events, m.suffix, suffixBytes);
        input.unacked++;
        while (input.unacked >= BATCHES_AHEAD && !input.cancelled) await waitFor(input);
        if (input.cancelled) throw new Error('stopped');
      },
    });
    post({ type: 'done', id, result, filtered: counters.filtered });
  } catch (error) {
    const decode = error instanceof DecodeError ? error : undefined;
    post({
      type: 'failed',
      id,
      parquet: error instanceof ParquetToTextError,
      message: (error as Error).message ?? String(error),
      events: decode?.events ?? 0,
      bytes: decode?.bytes ?? 0,
      filtered: counters.filtered,
    });
  } finally {
    inputs.delete(id);
    decodingDone();
  }
}

port.on('message', (m: ToThread) => {
  if (m.type === 'start') {
    void run(m);
    return;
  }
  if (m.type === 'recycle') {
    if (spare.length < SPARES_KEPT) spare.push(m.buffer);
    return;
  }
  const input = inputs.get(m.id);
  if (!input) return;
  switch (m.type) {
    case 'data':
      input.chunks.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
      break;
    case 'end':
      input.ended = true;
      break;
    case 'ack':
      input.unacked--;
      break;
    case 'cancel':
      input.cancelled = true;
      break;
  }
  for (const wake of input.waiting.splice(0)) wake();
});
