import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { OutEvent } from '../src/formats/decoders.js';
import { BATCH_BYTES, decodeObject } from '../src/object-decoder.js';
import { ServicePipeline } from '../src/pipeline.js';
import { CATALOGUE } from '../src/catalogue.js';
import { UnackedBudget } from '../src/unacked-budget.js';

// What bounds the bytes a busy collector holds: batches cut by bytes as well as by count, and the
// unacknowledged events of a worker bounded by their text.

/** A promise with its resolve and reject, as the SDK's `delivered`. */
function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Whether `promise` settled within a few turns of the event loop. */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

describe('UnackedBudget', () => {
  it('lets events through while their text is under the limit, then waits for an acknowledgement', async () => {
    const budget = new UnackedBudget(100, new Promise(() => undefined));
    const first = deferred();
    await budget.reserve();
    budget.hold(['x'.repeat(60)], first.promise);
    await budget.reserve(); // 60 < 100: room
    const second = deferred();
    budget.hold(['y'.repeat(60)], second.promise);
    const waiting = budget.reserve(); // 120 ≥ 100
    expect(await settles(waiting)).toBe(false);
    first.resolve();
    expect(await settles(waiting)).toBe(true);
    // A failed delivery frees its room too (the message is released and read again).
    const third = deferred();
    budget.hold(['z'.repeat(60)], third.promise);
    const again = budget.reserve();
    expect(await settles(again)).toBe(false);
    third.reject(new Error('output down'));
    expect(await settles(again)).toBe(true);
  });

  it('always has room when nothing is unacknowledged, and a stop ends the wait', async () => {
    let stop!: () => void;
    const budget = new UnackedBudget(10, new Promise<string>((r) => (stop = () => r('stopped'))));
    await budget.reserve();
    budget.hold(['a much longer event than the limit'], new Promise(() => undefined));
    const waiting = budget.reserve();
    expect(await settles(waiting)).toBe(false);
    stop();
    expect(await settles(waiting)).toBe(true);
  });
});

describe('batches of a decoded object', () => {
  it('are cut by decompressed bytes (BATCH_BYTES) before events_per_batch is reached, with every record once', async () => {
    // ~1.5 KB records, as CloudTrail's: 1000 of them would be 1.5 MB in one batch.
    const records = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ eventID: `e-${i}`, pad: 'p'.repeat(1500) }));
    const body = gzipSync(`{"Records":[${records.join(',')}]}`);
    const pipeline = ServicePipeline.resolve(CATALOGUE['aws_sqs_cloudtrail']!, {}, { region: 'us-east-1', account: '123456789012' }, 'inputs.sqs.services.aws_sqs_cloudtrail');
    const key = 'AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/01/x.json.gz';
    const batches: OutEvent[][] = [];
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let at = 0; at < body.length; at += 16384) yield body.subarray(at, at + 16384);
    }
    const result = await decodeObject(chunks()[Symbol.asyncIterator](), {
      plan: pipeline.plan(key),
      key,
      forceGunzip: false,
      suffix: '"@devo_pulling_id":"1"',
      batchSize: 1000,
      counters: { filtered: 0 },
      stopped: () => false,
      emit: async (events) => void batches.push(events as OutEvent[]),
    });
    expect(result.events).toBe(2000);
    const ids = batches.flat().map((e) => (JSON.parse(e as string) as { eventID: string }).eventID);
    expect(ids).toEqual(records.map((_, i) => `e-${i}`));
    const largest = Math.max(...batches.map((b) => b.reduce((n, e) => n + (e as string).length, 0)));
    // A batch holds what one decompressed chunk completed on top of BATCH_BYTES at most.
    expect(largest).toBeLessThan(2 * BATCH_BYTES + 16384);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThan(1000);
  });
});
