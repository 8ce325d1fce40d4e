import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime, stateFileName } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';
import { exampleCollector, startExampleApi, type ExampleEvent } from './example-input.js';

const HOUR = 3_600_000;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function makeEvents(startMs: number, count: number, stepMs: number): ExampleEvent[] {
  return Array.from({ length: count }, (_, i) => ({ id: `e${i}`, t: startMs + i * stepMs }));
}

function config(url: string, start: string, extra: Record<string, unknown> = {}) {
  return {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } } },
    inputs: {
      example: {
        id: 42,
        credentials: { token: 'good-token' },
        services: { events: { start_time: start, override_base_url: url, ...extra } },
      },
    },
  };
}

describe('collector runtime end to end', () => {
  it('pulls every window, delivers each event once with @devo_pulling_id, and saves state', async () => {
    const start = Date.now() - 5 * HOUR;
    const api = await startExampleApi(makeEvents(start, 50, 5 * 60_000));
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'sdk-e2e-'));
    const out = new CapturingOutput();
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (d) => (logText += d));
    const runtime = new CollectorRuntime(exampleCollector, { workDir, config: config(api.url, new Date(start).toISOString()), outputs: [out], logStream: logs });
    const summary = await runtime.runOnce();
    expect(summary.ok).toBe(true);
    expect(out.ids()).toEqual(api.events.map((e) => e.id));
    expect(out.records.every((r) => r.tag === 'my.app.example.events')).toBe(true);
    expect(JSON.parse(out.records[0]!.message)['@devo_pulling_id']).toMatch(/^\d{13}$/);
    const file = join(workDir, 'state', stateFileName('example;42;events'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(file, 'utf8'));
    expect(state.checkpoint).toBeGreaterThan(start + 4 * HOUR);
    expect(logText).toContain('Pull Started');
    expect(logText).toMatch(/Statistics for this pull cycle \(@devo_pulling_id=\d+\):Number of requests made: \d+; Number of events received: 50; Number of duplicated events filtered out: 0; Number of events generated and sent: 50/);
    expect(logText).not.toContain('good-token');
  });

  it('a restart continues without duplicates, and a look-back overlap is deduplicated', async () => {
    const start = Date.now() - 3 * HOUR;
    const api = await startExampleApi(makeEvents(start, 30, 5 * 60_000));
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'sdk-e2e-'));
    const first = new CapturingOutput();
    const cfg = config(api.url, new Date(start).toISOString(), { lookback_ms: HOUR });
    await new CollectorRuntime(exampleCollector, { workDir, config: cfg, outputs: [first], logStream: new PassThrough() }).runOnce();
    expect(first.records).toHaveLength(30);
    // A late event inside the look-back, then a restart.
    api.events.push({ id: 'late', t: Date.now() - 10 * 60_000 });
    const second = new CapturingOutput();
    const summary = await new CollectorRuntime(exampleCollector, { workDir, config: cfg, outputs: [second], logStream: new PassThrough() }).runOnce();
    expect(second.ids()).toEqual(['late']);
    expect(summary.services[0]!.duplicates).toBeGreaterThan(0);
  });

  it('a changed start time resets the persistence', async () => {
    const start = Date.now() - 2 * HOUR;
    const api = await startExampleApi(makeEvents(start, 10, 5 * 60_000));
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'sdk-e2e-'));
    await new CollectorRuntime(exampleCollector, { workDir, config: config(api.url, new Date(start).toISOString()), outputs: [new CapturingOutput()], logStream: new PassThrough() }).runOnce();
    const again = new CapturingOutput();
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (d) => (logText += d));
    await new CollectorRuntime(exampleCollector, { workDir, config: config(api.url, new Date(start - 1000).toISOString()), outputs: [again], logStream: logs }).runOnce();
    expect(again.records).toHaveLength(10);
    expect(logText).toContain('The persistence has been reset');
  });

  it('a failed delivery is retried and the checkpoint waits for it', async () => {
    const start = Date.now() - HOUR;
    const api = await startExampleApi(makeEvents(start, 5, 60_000));
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'sdk-e2e-'));
    const out = new CapturingOutput();
    out.failNext = 2;
    const runtime = new CollectorRuntime(exampleCollector, { workDir, config: config(api.url, new Date(start).toISOString()), outputs: [out], logStream: new PassThrough() });
    (runtime.delivery as unknown as { options: { retryInitialMs: number } }).options.retryInitialMs = 10;
    const summary = await runtime.runOnce();
    expect(summary.ok).toBe(true);
    expect(out.ids()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
  });

  it('a daily request budget survives a restart', async () => {
    const start = Date.now() - 2 * HOUR;
    const api = await startExampleApi(makeEvents(start, 4, 60_000));
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'sdk-e2e-'));
    const cfg = { ...config(api.url, new Date(start).toISOString()) };
    (cfg.inputs.example as Record<string, unknown>)['requests_limits'] = [{ period: '1d', number_of_requests: 50 }];
    const first = new CollectorRuntime(exampleCollector, { workDir, config: cfg, outputs: [new CapturingOutput()], logStream: new PassThrough() });
    await first.runOnce();
    const used = api.requests;
    expect(used).toBeGreaterThanOrEqual(3);
    const second = new CollectorRuntime(exampleCollector, { workDir, config: cfg, outputs: [new CapturingOutput()], logStream: new PassThrough() });
    await second.inputs[0]!.sharedState.load();
    expect(second.runners[0]!['deps'].http.limiter()!.remaining()).toBe(50 - used);
  });

  it('a cycle that fails mid-window still persists the dedup keys of what was acknowledged', async () => {
    const start = Date.now() - 3 * HOUR;
    const api = await startExampleApi(makeEvents(start, 30, 5 * 60_000));
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'sdk-e2e-'));
    const cfg = config(api.url, new Date(start).toISOString());
    // The API breaks after the first window: the cycle fails with its first window delivered but the
    // checkpoint (the end of the last window) never reached.
    const failing = new CollectorRuntime(exampleCollector, { workDir, config: cfg, outputs: [new CapturingOutput()], logStream: new PassThrough(), http: { backoffBaseMs: 1, maxBackoffMs: 2 } });
    let served = 0;
    const original = failing.runners[0]!['deps'].http.request.bind(failing.runners[0]!['deps'].http);
    failing.runners[0]!['deps'].http.request = async (req) => {
      if (String(req.url).endsWith('/events') && served++ >= 1) throw new Error('vendor went away');
      return original(req);
    };
    const first = await failing.runOnce();
    expect(first.ok).toBe(false);
    const again = new CapturingOutput();
    await new CollectorRuntime(exampleCollector, { workDir, config: cfg, outputs: [again], logStream: new PassThrough() }).runOnce();
    const firstWindow = api.events.filter((e) => e.t < start + HOUR).map((e) => e.id);
    expect(firstWindow.length).toBeGreaterThan(0);
    expect(again.ids()).toEqual(api.events.map((e) => e.id).filter((id) => !firstWindow.includes(id)));
  });

  it('rejects a malformed start time with the documented error and no stack trace', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'sdk-e2e-'));
    writeFileSync(join(workDir, 'x'), '');
    const runtime = new CollectorRuntime(exampleCollector, { workDir, config: config('http://127.0.0.1:1', 'yesterday'), outputs: [new CapturingOutput()], logStream: new PassThrough() });
    await expect(runtime.validate()).rejects.toThrow(/start_time is not as per the datetime_format/);
  });
});
