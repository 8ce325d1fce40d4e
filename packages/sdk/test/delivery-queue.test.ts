import { describe, expect, it } from 'vitest';
import { DeliveryPipeline, type DeliveryRecord, type Output } from '@collector/sdk/host';
import { waitUntil } from '@collector/testkit';

/** An output whose writes are settled by the test: pending writes can be failed or acknowledged at will. */
class ManualOutput implements Output {
  readonly type = 'manual';
  readonly name = 'manual';
  readonly writes: { records: readonly DeliveryRecord[]; ok: () => void; fail: () => void; flushed: () => void }[] = [];
  async start() {}
  write(records: readonly DeliveryRecord[], _service?: unknown, flushed: () => void = () => undefined): Promise<void> {
    return new Promise((resolve, reject) => this.writes.push({ records, ok: resolve, fail: () => reject(new Error('connection lost')), flushed }));
  }
  ready() {
    return true;
  }
  async stop() {}
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const rec = (n: number): DeliveryRecord => ({ tag: 'my.app.test.queue', message: String(n) });

describe('DeliveryPipeline queue', () => {
  it('pipelines writes, and writes that fail in flight go back in their original order', async () => {
    const out = new ManualOutput();
    const pipeline = new DeliveryPipeline([out], { statsPeriodMs: 0, batchSize: 2, retryInitialMs: 1, retryMaxMs: 1 });
    await pipeline.start();
    const acks: Promise<void>[] = [];
    for (let i = 0; i < 4; i++) acks.push((await pipeline.submit([rec(2 * i), rec(2 * i + 1)])).delivered);
    // Waits for what must happen (a loaded machine delays timers), then checks nothing more happened.
    await waitUntil(() => out.writes.length >= 4, { what: 'four writes' });
    await tick();
    expect(out.writes).toHaveLength(4); // four batches in flight at once
    // The connection dies: every write in flight fails, in order.
    for (const w of out.writes.splice(0)) w.fail();
    // After a failure a single write probes the connection; once it succeeds the window opens again.
    await waitUntil(() => out.writes.length >= 1, { what: 'the probe write' });
    await tick();
    expect(out.writes).toHaveLength(1);
    out.writes.shift()!.ok();
    await waitUntil(() => out.writes.length >= 3, { what: 'the three other writes' });
    await tick();
    expect(out.writes).toHaveLength(3);
    for (const w of out.writes.splice(0)) w.ok();
    await Promise.all(acks);
    expect(pipeline.queueSize.messages).toBe(0);
  });

  it('a flushed write that only waits for its acknowledgement leaves the write window, up to one more window of them', async () => {
    const out = new ManualOutput();
    const pipeline = new DeliveryPipeline([out], { statsPeriodMs: 0, batchSize: 1, maxInflightBatches: 3, retryInitialMs: 1, retryMaxMs: 1 });
    await pipeline.start();
    const acks: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) acks.push((await pipeline.submit([rec(i)])).delivered);
    await waitUntil(() => out.writes.length >= 3, { what: 'three writes' });
    await tick();
    expect(out.writes).toHaveLength(3); // the window: 3 being written
    for (const w of out.writes) w.flushed();
    await waitUntil(() => out.writes.length >= 6, { what: 'three more writes' });
    await tick();
    expect(out.writes).toHaveLength(6); // 3 settling + 3 being written
    for (const w of out.writes.slice(3)) w.flushed();
    await tick();
    expect(out.writes).toHaveLength(6); // 6 in flight: the settling ones are bounded too
    // A failure fails them all; they come back in order and, after it, one write at a time.
    for (const w of out.writes.splice(0)) w.fail();
    await waitUntil(() => out.writes.length >= 1, { what: 'the probe write' });
    out.writes[0]!.flushed();
    await tick();
    expect(out.writes.map((w) => w.records[0]!.message)).toEqual(['0']);
    out.writes.shift()!.ok();
    const order: string[] = [];
    while (order.length < 9) {
      await waitUntil(() => out.writes.length > 0, { what: 'the remaining writes' });
      for (const w of out.writes.splice(0)) {
        order.push(w.records[0]!.message);
        w.ok();
      }
    }
    expect(order).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    await Promise.all(acks);
  });

  it('the write window is per connection: a stalled connection cannot take the places of the others', async () => {
    const out = Object.assign(new ManualOutput(), { connections: 2 });
    const pipeline = new DeliveryPipeline([out], { statsPeriodMs: 0, batchSize: 1, maxInflightBatches: 3, retryInitialMs: 1, retryMaxMs: 1 });
    await pipeline.start();
    const acks: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) acks.push((await pipeline.submit([rec(i)])).delivered);
    // Nothing flushes (one receiver stalled): 2 connections × 3 are being written, not 3.
    await waitUntil(() => out.writes.length >= 6, { what: 'six writes' });
    await tick();
    expect(out.writes).toHaveLength(6);
    for (const w of out.writes.splice(0)) w.ok();
    await waitUntil(() => out.writes.length >= 4, { what: 'the four other writes' });
    for (const w of out.writes.splice(0)) w.ok();
    await Promise.all(acks);
    expect(pipeline.queueSize.messages).toBe(0);
  });

  it('retried batches keep the submission order', async () => {
    const out = new ManualOutput();
    const pipeline = new DeliveryPipeline([out], { statsPeriodMs: 0, batchSize: 1, retryInitialMs: 1, retryMaxMs: 1 });
    await pipeline.start();
    const acks: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) acks.push((await pipeline.submit([rec(i)])).delivered);
    await tick();
    for (const w of out.writes.splice(0)) w.fail();
    const order: string[] = [];
    for (let round = 0; round < 20 && order.length < 5; round++) {
      await tick();
      for (const w of out.writes.splice(0)) {
        order.push(...w.records.map((r) => r.message));
        w.ok();
      }
    }
    await Promise.all(acks);
    expect(order).toEqual(['0', '1', '2', '3', '4']);
  });

  it('back-pressure: submit waits while the queue is full and resumes once records are written', async () => {
    const out = new ManualOutput();
    const pipeline = new DeliveryPipeline([out], { statsPeriodMs: 0, batchSize: 10, maxMessages: 10, maxInflightBatches: 1 });
    await pipeline.start();
    await pipeline.submit(Array.from({ length: 10 }, (_, i) => rec(i))); // taken for writing at once
    await pipeline.submit(Array.from({ length: 10 }, (_, i) => rec(10 + i))); // queued: the queue is full
    let admitted = false;
    void pipeline.submit([rec(99)]).then(() => (admitted = true));
    await tick();
    expect(admitted).toBe(false);
    out.writes.shift()!.ok(); // first batch acknowledged: the second is taken for writing, room again
    await tick();
    expect(admitted).toBe(true);
    for (let i = 0; i < 5 && out.writes.length; i++) {
      out.writes.shift()!.ok();
      await tick();
    }
    expect(await pipeline.drain(1_000)).toBe(true);
  });

  it('rejects pending and new submissions after stop when there is no emergency persistence', async () => {
    const out = new ManualOutput();
    const pipeline = new DeliveryPipeline([out], { statsPeriodMs: 0 });
    await pipeline.start();
    const { delivered } = await pipeline.submit([rec(1)]);
    await tick();
    out.writes[0]!.fail();
    const stopping = pipeline.stop();
    await expect(delivered).rejects.toThrow(/delivery stopped/);
    await stopping;
    await expect((await pipeline.submit([rec(2)])).delivered).rejects.toThrow(/delivery stopped/);
  });
});

describe('DeliveryPipeline stop', () => {
  it('settles even submissions whose write hangs: saved to the emergency persistence, or rejected without one', async () => {
    const { mkdtempSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = join(mkdtempSync(join(tmpdir(), 'delivery-queue-')), 'delivery');
    const hanging = new ManualOutput();
    const saving = new DeliveryPipeline([hanging], { statsPeriodMs: 0, emergencyDir: dir, stopGraceMs: 20 });
    await saving.start();
    const { delivered } = await saving.submit([rec(1), rec(2)]);
    await tick();
    expect(hanging.writes).toHaveLength(1); // in flight, never answered
    await saving.stop();
    await expect(delivered).resolves.toBeUndefined();
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
    hanging.writes[0]!.ok(); // a late answer changes nothing

    const other = new ManualOutput();
    const dropping = new DeliveryPipeline([other], { statsPeriodMs: 0, stopGraceMs: 20 });
    await dropping.start();
    const second = await dropping.submit([rec(3)]);
    await tick();
    await dropping.stop();
    await expect(second.delivered).rejects.toThrow(/delivery stopped/);
  });
});

describe('DeliveryPipeline batching', () => {
  it('cuts batches by bytes too, so big events do not make huge writes', async () => {
    const out = new ManualOutput();
    const pipeline = new DeliveryPipeline([out], { statsPeriodMs: 0, batchSize: 1000, maxBatchBytes: 1024 * 1024 });
    await pipeline.start();
    const big = 'b'.repeat(300 * 1024);
    const { delivered } = await pipeline.submit(Array.from({ length: 10 }, () => ({ tag: 'my.app.test.big', message: big })));
    await tick();
    const sizes = out.writes.map((w) => w.records.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    for (const w of out.writes.splice(0)) w.ok();
    await delivered;
  });
});
