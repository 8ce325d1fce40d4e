import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { defineCollector, defineInput, defineService, EncodedBatch } from '@collector/sdk';
import { CollectorRuntime, stateFileName, type DeliveryRecord, type SenderService } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';
import { exampleCollector, startExampleApi, type ExampleEvent } from './example-input.js';
import { countJournaledKeys } from './journaled-keys.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** An output that acknowledges each write `delayMs` after it started, noting the size of every write. */
class SlowOutput extends CapturingOutput {
  readonly writes: number[] = [];

  constructor(private readonly delayMs: number) {
    super('slow');
  }

  override async write(records: Parameters<CapturingOutput['write']>[0], service?: Parameters<CapturingOutput['write']>[1]): Promise<void> {
    this.writes.push(records.length);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    await super.write(records, service);
  }
}

async function scenario(events: ExampleEvent[], start: number, pageSize: number) {
  const api = await startExampleApi(events);
  closers.push(api.close);
  const workDir = mkdtempSync(join(tmpdir(), 'runner-batching-'));
  const config = {
    globals: { http_server: { enabled: false } },
    inputs: { example: { id: 5, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: api.url, page_size: pageSize } } } },
  };
  const stateFile = join(workDir, 'state', stateFileName('example;5;events'));
  const savedCheckpoint = (): number | null => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { checkpoint: number | null }).checkpoint : null);
  return { workDir, config, savedCheckpoint };
}

describe('the runner between the vendor pages and the outputs', () => {
  it('sends the pages fetched while a batch awaits its acknowledgement together in the next batch: every event once, in order', async () => {
    const start = Date.now() - 30 * 60_000;
    const events = Array.from({ length: 600 }, (_, i): ExampleEvent => ({ id: `b${i}`, t: start + i * 1000 }));
    const { workDir, config, savedCheckpoint } = await scenario(events, start, 10);
    const out = new SlowOutput(40);
    const summary = await new CollectorRuntime(exampleCollector, { workDir, config, outputs: [out], logStream: new PassThrough() }).runOnce();
    expect(summary.ok).toBe(true);
    expect(out.ids()).toEqual(events.map((e) => e.id));
    // 60 pages of 10: while a write waits 40 ms, the next pages queue up and go out as one write.
    expect(out.writes.length).toBeLessThan(60);
    expect(Math.max(...out.writes)).toBeLessThanOrEqual(1000);
    expect(savedCheckpoint()).toBeGreaterThanOrEqual(events.at(-1)!.t);
  });

  it('saves a checkpoint only after every event before it was acknowledged, while the next windows are pulled', async () => {
    // Five one-hour windows, each committed at its end; acknowledgements take 60 ms.
    const start = Date.now() - 5 * 3_600_000 - 60_000;
    const events = Array.from({ length: 500 }, (_, i): ExampleEvent => ({ id: `w${i}`, t: start + i * 36_000 }));
    const { workDir, config, savedCheckpoint } = await scenario(events, start, 25);
    const ahead = new Set<string>();
    const out = new SlowOutput(60);
    // Every 5 ms: the checkpoint on disk must not be past an event that is not acknowledged yet (the
    // checkpoint is read first: an acknowledgement that lands between the two reads cannot look late).
    const watch = setInterval(() => {
      const checkpoint = savedCheckpoint();
      if (checkpoint === null) return;
      const acknowledged = new Set(out.ids());
      for (const e of events) if (e.t < checkpoint && !acknowledged.has(e.id)) ahead.add(`${e.id} before checkpoint ${checkpoint}`);
    }, 5);
    closers.push(async () => clearInterval(watch));
    const summary = await new CollectorRuntime(exampleCollector, { workDir, config, outputs: [out], logStream: new PassThrough() }).runOnce();
    clearInterval(watch);
    expect(summary.ok).toBe(true);
    expect([...ahead]).toEqual([]);
    expect(out.ids()).toEqual(events.map((e) => e.id));
    expect(savedCheckpoint()).toBeGreaterThanOrEqual(events.at(-1)!.t);
  });

  // delivery_batch_max_messages: the default, a smaller and a larger batch. The batch is the unit written,
  // acknowledged and journaled, so it is also what a kill -9 may send again.
  it.each([
    { batch: undefined, expected: 2000 }, // the documented default
    { batch: 250, expected: 250 },
    { batch: 2500, expected: 2500 },
  ])('frames the next batch while the previous one settles, and writes it only once the previous one is journaled (delivery_batch_max_messages $batch)', async ({ batch, expected }) => {
    const start = Date.now() - 30 * 60_000;
    const events = Array.from({ length: 6000 }, (_, i): ExampleEvent => ({ id: `f${i}`, t: start + i * 100 }));
    const { workDir, config } = await scenario(events, start, 10);
    if (batch !== undefined) Object.assign(config.globals, { delivery_batch_max_messages: batch });
    const framedAhead = new WeakSet<object>();
    const writes: { size: number; framed: boolean; journaledBefore: number }[] = [];
    // The runner hands its batches over as bytes: an output that frames bytes gets them through writeBatches.
    class FramingOutput extends SlowOutput {
      prepare(batch: object): void {
        framedAhead.add(batch);
      }
      async writeBatches(batches: readonly (EncodedBatch | readonly DeliveryRecord[])[], service: SenderService): Promise<void> {
        const size = batches.reduce((n, b) => n + b.length, 0);
        writes.push({ size, framed: batches.length === 1 && framedAhead.has(batches[0]!), journaledBefore: journaled.count });
        await super.write(
          batches.flatMap((b) => (b instanceof EncodedBatch ? b.records() : b)),
          service,
        );
      }
    }
    const runtime = new CollectorRuntime(exampleCollector, { workDir, config, outputs: [new FramingOutput(30)], logStream: new PassThrough() });
    const journaled = countJournaledKeys(runtime);
    const summary = await runtime.runOnce();
    expect(summary.ok).toBe(true);
    // Every write began only once every event written before it was journaled: one batch unjournaled at most.
    let before = 0;
    for (const w of writes) {
      expect(w.journaledBefore).toBe(before);
      before += w.size;
    }
    expect(before).toBe(events.length);
    expect(Math.max(...writes.map((w) => w.size))).toBe(expected);
    // The pages pile up while a write settles: the full batches were framed before their turn came.
    expect(writes.filter((w) => w.framed && w.size === expected).length).toBeGreaterThanOrEqual(2);
  });

  it("does not send a window's last records in a small batch of their own: a batch carries on into the next window", async () => {
    // Five one-hour windows of 100 events; acknowledgements take 150 ms, so pages pile up meanwhile.
    const start = Date.now() - 5 * 3_600_000 - 60_000;
    const events = Array.from({ length: 500 }, (_, i): ExampleEvent => ({ id: `x${i}`, t: start + i * 36_000 }));
    const { workDir, config, savedCheckpoint } = await scenario(events, start, 25);
    const out = new SlowOutput(150);
    const summary = await new CollectorRuntime(exampleCollector, { workDir, config, outputs: [out], logStream: new PassThrough() }).runOnce();
    expect(summary.ok).toBe(true);
    expect(out.ids()).toEqual(events.map((e) => e.id));
    // The windows each write spans (writes hold consecutive events, in order).
    const windowOf = new Map(events.map((e) => [e.id, Math.floor((e.t - start) / 3_600_000)]));
    const ids = out.ids();
    let at = 0;
    const spans = out.writes.map((n) => {
      const windows = new Set(ids.slice(at, at + n).map((id) => windowOf.get(id)));
      at += n;
      return windows.size;
    });
    expect(Math.max(...spans)).toBeGreaterThan(1);
    expect(out.writes.length).toBeLessThan(5);
    expect(savedCheckpoint()).toBeGreaterThanOrEqual(events.at(-1)!.t);
  });

  it('a page whose encoding fails half-way: its first events go out once, and the next pull still commits only what was acknowledged', async () => {
    type Event = { id: string; n?: bigint };
    const pages: Event[][] = [];
    const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i): Event => ({ id: `e${from + i}` }));
    // Pull 1: a page with an event JSON.stringify cannot write (a BigInt) after five good ones. Pull 2: pages of
    // 1003 with a checkpoint each, acknowledged slowly: batches of 1000 end 3 events before a page's end, where a
    // commit position off by the five events of pull 1 would commit a page before its last events were acknowledged.
    pages.push([...ids(0, 5), { id: 'bad', n: 1n }, ...ids(6, 10)]);
    for (let p = 1; p <= 6; p++) pages.push(ids(p * 1003, p * 1003 + 1003));
    let pulls = 0;
    const collector = defineCollector({
      name: 'failing_collector',
      version: '0.0.1',
      inputs: [
        defineInput<object>({
          name: 'failing',
          setup: async () => ({}),
          services: {
            events: defineService<object, Record<string, unknown>, number>({
              tag: 'my.app.failing.events',
              dedupKey: (e: Event) => e.id,
              async *pull(_ctx, checkpoint) {
                if (pulls++ === 0) {
                  yield { events: pages[0]! };
                  return;
                }
                for (let p = (checkpoint ?? 0) + 1; p < pages.length; p++) yield { events: pages[p]!, checkpoint: p };
              },
            }),
          },
        }),
      ],
    });
    const workDir = mkdtempSync(join(tmpdir(), 'runner-failing-'));
    const stateFile = join(workDir, 'state', stateFileName('failing;1;events'));
    const checkpoint = (): number | null => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { checkpoint: number | null }).checkpoint : null);
    const out = new SlowOutput(30);
    const ahead = new Set<string>();
    const watch = setInterval(() => {
      const saved = checkpoint();
      if (saved === null) return;
      const acknowledged = new Set(out.ids());
      for (let p = 1; p <= saved; p++) for (const e of pages[p]!) if (!acknowledged.has(e.id)) ahead.add(`${e.id} before checkpoint ${saved}`);
    }, 2);
    closers.push(async () => clearInterval(watch));
    const config = { globals: { http_server: { enabled: false } }, inputs: { failing: { id: 1, services: { events: { request_period_in_seconds: 1 } } } } };
    const runtime = new CollectorRuntime(collector, { workDir, config, outputs: [out], logStream: new PassThrough() });
    const running = runtime.run();
    const deadline = Date.now() + 15_000;
    while (checkpoint() !== pages.length - 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await runtime.stop();
    await running;
    clearInterval(watch);
    expect(checkpoint()).toBe(pages.length - 1);
    expect([...ahead]).toEqual([]);
    expect(out.ids()).toEqual([...ids(0, 5), ...pages.slice(1).flat()].map((e) => e.id));
  });
});
