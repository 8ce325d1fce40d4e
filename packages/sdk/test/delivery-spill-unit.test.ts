import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeliveryPipeline, type DeliveryRecord, type Output } from '@collector/sdk/host';

// Spilling with several outputs and a re-send interrupted half way, with in-memory outputs (the rsyslog
// tests are in delivery-spill.test.ts).

/** An output that can be taken down (writes reject, not ready) and brought back; acks only `okWrites` while up. */
class SwitchableOutput implements Output {
  readonly type = 'switchable';
  readonly messages: string[] = [];
  down = false;
  /** Writes that still succeed while up (then it goes down by itself): a receiver dying mid re-send. */
  okWrites = Infinity;
  constructor(readonly name: string) {}
  async start(): Promise<void> {}
  async write(records: readonly DeliveryRecord[]): Promise<void> {
    await new Promise((r) => setTimeout(r, 1));
    if (this.down || this.okWrites <= 0) {
      this.down = true;
      throw new Error('connection refused');
    }
    this.okWrites--;
    this.messages.push(...records.map((r) => r.message));
  }
  ready(): boolean {
    return !this.down;
  }
  async stop(): Promise<void> {}
}

const record = (i: number): DeliveryRecord => ({ tag: 'my.app.test.spill', message: `m${i}` });
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => record(a + i));
const names = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => `m${a + i}`);
const options = (dir: string) => ({ statsPeriodMs: 0, emergencyDir: dir, spillAfterMs: 100, spillFlushMs: 30, retryInitialMs: 5, retryMaxMs: 40, maxMessages: 100, batchSize: 50, maxInflightBatches: 2 });
const spoolFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : []);

async function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('spilling with in-memory outputs', () => {
  it('only the output that is down spills; the other keeps receiving, and every submission is acknowledged', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'spill-unit-')), 'delivery');
    const up = new SwitchableOutput('up');
    const down = new SwitchableOutput('down');
    down.down = true;
    const pipeline = new DeliveryPipeline([up, down], options(dir));
    await pipeline.start();
    const delivered: Promise<void>[] = [];
    for (let i = 0; i < 1000; i += 50) delivered.push((await pipeline.submit(range(i, i + 50))).delivered);
    await Promise.all(delivered);
    expect(up.messages).toEqual(names(0, 1000));
    expect(down.messages).toEqual([]);
    expect(pipeline.spooledFor('down').messages).toBe(1000);
    expect(pipeline.spooledFor('up').messages).toBe(0);
    expect(spoolFiles(dir).every((f) => f.startsWith('down.'))).toBe(true);

    down.down = false;
    await until('the spool re-sent', () => pipeline.spooledFor('down').files === 0);
    const after = await pipeline.submit(range(1000, 1010));
    await after.delivered;
    expect(await pipeline.drain(5_000)).toBe(true);
    expect(down.messages).toEqual(names(0, 1010));
    expect(up.messages).toEqual(names(0, 1010));
    expect(spoolFiles(dir)).toEqual([]);
    await pipeline.stop();
  });

  it('a re-send cut short keeps the file: the next start sends it again (duplicates at most one file), nothing lost, in order', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'spill-unit-')), 'delivery');
    const out = new SwitchableOutput('out');
    out.down = true;
    const first = new DeliveryPipeline([out], options(dir));
    await first.start();
    const delivered: Promise<void>[] = [];
    for (let i = 0; i < 600; i += 50) delivered.push((await first.submit(range(i, i + 50))).delivered);
    await Promise.all(delivered);
    const files = spoolFiles(dir).length;
    expect(files).toBeGreaterThan(1);
    // Back for three writes (50 records each), then down again in the middle of the re-send.
    out.okWrites = 3;
    out.down = false;
    await until('the output down again', () => out.down && out.messages.length === 150);
    await first.stop();
    expect(spoolFiles(dir).length).toBeGreaterThan(0);
    const sentBefore = out.messages.length;

    out.okWrites = Infinity;
    out.down = false;
    const second = new DeliveryPipeline([out], options(dir));
    await second.start();
    await until('the spool re-sent', () => spoolFiles(dir).length === 0);
    expect(await second.drain(5_000)).toBe(true);
    await second.stop();
    // Every record arrived; the repeats are the acknowledged part of the one file that was being re-sent.
    expect(new Set(out.messages)).toEqual(new Set(names(0, 600)));
    const repeats = out.messages.length - 600;
    expect(repeats).toBeLessThanOrEqual(sentBefore);
    expect(out.messages.slice(sentBefore)).toEqual(names(sentBefore - repeats, 600));
  });
});
