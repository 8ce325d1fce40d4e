import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type CollectorDefinition } from '@collector/sdk';
import { CollectorRuntime, stateFileName } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';
import { exampleCollector, startExampleApi, type ExampleEvent } from './example-input.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function scenario(count: number) {
  const start = Date.now() - 3_600_000;
  const api = await startExampleApi(Array.from({ length: count }, (_, i): ExampleEvent => ({ id: `o${i}`, t: start + i * 1000 })));
  closers.push(api.close);
  const config = (globals: Record<string, unknown>) => ({
    globals: { http_server: { enabled: false }, ...globals },
    inputs: { example: { id: 3, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: api.url } } } },
  });
  return { api, config, workDir: mkdtempSync(join(tmpdir(), 'once-delivery-')) };
}

/** An output that is down (every write fails) until `up()`. */
function downOutput(): CapturingOutput & { up(): void } {
  const out = new CapturingOutput('devo_down') as CapturingOutput & { up(): void };
  out.failNext = Number.MAX_SAFE_INTEGER;
  out.up = () => (out.failNext = 0);
  return out;
}

describe('--once and the emergency persistence', () => {
  it('fails with OutputError 611 when spilled events cannot be delivered in time; the next start sends them', async () => {
    const { api, config, workDir } = await scenario(50);
    const down = downOutput();
    const first = new CollectorRuntime(exampleCollector, {
      workDir,
      config: config({ emergency_persistence_after_seconds: 0.2, once_delivery_timeout_seconds: 1 }),
      outputs: [down],
      logStream: new PassThrough(),
    });
    const failed = await first.runOnce();
    expect(failed.ok).toBe(false);
    expect(failed.errors.join('\n')).toMatch(/^OutputError 611: 50 event\(s\) could not be delivered within once_delivery_timeout_seconds \(1 s\): they are kept in the emergency persistence/m);
    expect(down.records).toHaveLength(0);
    // The pullers moved on (the events are durable on disk), so the next start re-sends them from the spool.
    expect(JSON.parse(readFileSync(join(workDir, 'state', stateFileName('example;3;events')), 'utf8')).checkpoint).not.toBeNull();

    const up = new CapturingOutput('devo_down');
    const second = await new CollectorRuntime(exampleCollector, { workDir, config: config({}), outputs: [up], logStream: new PassThrough() }).runOnce();
    expect(second.ok).toBe(true);
    expect(up.ids()).toEqual(api.events.map((e) => e.id));
  });

  it('waits for the output to come back and delivers the spool in the same run', async () => {
    const { api, config, workDir } = await scenario(30);
    const down = downOutput();
    setTimeout(() => down.up(), 1500);
    const summary = await new CollectorRuntime(exampleCollector, {
      workDir,
      config: config({ emergency_persistence_after_seconds: 0.2, once_delivery_timeout_seconds: 60 }),
      outputs: [down],
      logStream: new PassThrough(),
    }).runOnce();
    expect(summary.ok).toBe(true);
    expect(down.ids()).toEqual(api.events.map((e) => e.id));
  });
});

describe('a durable source (SQS)', () => {
  it('is never acknowledged by a local spool: with the output down nothing is spilled or committed', async () => {
    const { config, workDir } = await scenario(20);
    const durable: CollectorDefinition = { ...exampleCollector, durableSource: true };
    const runtime = new CollectorRuntime(durable, {
      workDir,
      config: config({ emergency_persistence_after_seconds: 0.2 }),
      outputs: [downOutput()],
      logStream: new PassThrough(),
    });
    const running = runtime.run();
    await new Promise((r) => setTimeout(r, 1500));
    await runtime.stop();
    await running;
    const delivery = join(workDir, 'state', 'delivery');
    expect(existsSync(delivery) ? readdirSync(delivery) : []).toEqual([]);
    expect(JSON.parse(readFileSync(join(workDir, 'state', stateFileName('example;3;events')), 'utf8')).checkpoint).toBeNull();
  });
});
