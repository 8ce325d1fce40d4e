import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Logger } from '@collector/sdk';
import { CollectorRuntime, createOutputs, DeliveryPipeline, silentLogger, stateFileName, type DeliveryRecord, type OutputConfig } from '@collector/sdk/host';
import { devoOutputConfig } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';
import { exampleCollector, startExampleApi, type ExampleEvent } from './example-input.js';

// Emergency persistence while running: an output down longer than the threshold has its queue spilled to
// state/delivery (acknowledged once fsync'd, so pullers go on), and the spool is re-sent first, in order,
// once the output is back. Against the real rsyslog, stopped and restarted.

const HOUR = 3_600_000;
const T = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
/** Fast reconnects so the tests take seconds, not the DCSDK's minutes. */
const FAST = { connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 };
const child = fileURLToPath(new URL('./fixtures/delivery-spill-child.ts', import.meta.url));

const rsyslog = useRsyslog();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log: Logger & { lines: string[] } = {
    lines,
    error: (m) => lines.push(`ERROR ${m}`),
    warning: (m) => lines.push(`WARNING ${m}`),
    warn: (m) => lines.push(`WARNING ${m}`),
    info: (m) => lines.push(`INFO ${m}`),
    debug: () => undefined,
    child: () => log,
    debugEnabled: false,
  };
  return log;
}

function outputs(): Record<string, OutputConfig> {
  const block = devoOutputConfig(rsyslog) as Record<string, OutputConfig>;
  Object.assign(block['devo_1']!.config, FAST);
  return block;
}

/** `.jsonl` spool files and the records they hold. */
function spool(dir: string): { files: string[]; records: number } {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
  const records = files.reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).length, 0);
  return { files, records };
}

/** The `id` of every line with `tag` received since `from`, in arrival order. */
function ids(from: number, tag: string): string[] {
  return rsyslog
    .lines()
    .slice(from)
    .filter((l) => l.includes(` ${tag}: `))
    .map((l) => (JSON.parse(l.slice(l.indexOf(': ') + 2)) as { id: string }).id);
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function checkpoint(workDir: string): number | null {
  const file = join(workDir, 'state', stateFileName('example;7;events'));
  return existsSync(file) ? ((JSON.parse(readFileSync(file, 'utf8')) as { checkpoint: number | null }).checkpoint ?? null) : null;
}

describe('emergency persistence while running (spill to state/delivery, re-send when back)', () => {
  it('DeliveryPipeline: never blocks while rsyslog is down, acknowledges once spooled, re-sends in order before newer records', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'delivery-spill-'));
    const dir = join(workDir, 'state', 'delivery');
    const tag = 'my.app.test.spill';
    const record = (i: number): DeliveryRecord => ({ tag, message: JSON.stringify({ id: `e${i}` }), time: T });
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => record(a + i));
    await rsyslog.stop();
    const from = rsyslog.lines().length;
    const log = memoryLogger();
    const pipeline = new DeliveryPipeline(createOutputs(outputs(), { workDir, log: silentLogger, hostname: 'testhost' }), {
      statsPeriodMs: 0, emergencyDir: dir, spillAfterMs: 300, spillFlushMs: 100, spoolLogPeriodMs: 100, maxMessages: 200, log,
    });
    closers.push(() => pipeline.stop());
    await pipeline.start();

    // 3000 records through a 200-record queue: without spilling, submit() would wait for ever.
    const N = 3000;
    const delivered: Promise<void>[] = [];
    for (let i = 0; i < N; i += 100) delivered.push((await pipeline.submit(range(i, i + 100))).delivered);
    await Promise.all(delivered);
    expect(pipeline.spooledFor('devo_1').messages).toBe(N);
    expect(spool(dir).records).toBe(N);
    expect(pipeline.queueSize.messages).toBe(0);
    expect(rsyslog.lines().length).toBe(from);
    expect(log.lines.some((l) => /^WARNING \[EMERGENCY PERSISTENCE SYSTEM\] Output devo_1 down for [\d.]+ s: spilling \d+ queued event\(s\) to .*state\/delivery\/devo_1\.\d+\./.test(l))).toBe(true);
    await until('a spool size line', () => log.lines.some((l) => /Output devo_1 spool: 3000 event\(s\) in \d+ file\(s\), \d+ bytes under /.test(l)));

    await rsyslog.restart();
    // Submitted while the spool may still be re-sent: these must arrive after every spooled record.
    const late = await pipeline.submit(range(N, N + 100));
    await late.delivered;
    await rsyslog.waitForLines(from + N + 100, 15_000);
    expect(await pipeline.drain(10_000)).toBe(true);
    const got = ids(from, tag);
    expect(got).toEqual(Array.from({ length: N + 100 }, (_, i) => `e${i}`)); // every record once, in order
    expect(spool(dir).files).toEqual([]);
    expect(pipeline.spooledFor('devo_1')).toEqual({ messages: 0, bytes: 0, files: 0 });
    expect(log.lines.some((l) => /Output devo_1: \d+ spooled event\(s\) re-sent; the spool is empty, sending directly again/.test(l))).toBe(true);
  });

  it('CollectorRuntime: the pullers keep pulling and commit while rsyslog is down; everything arrives once, in order, when it is back', async () => {
    const start = Date.now() - 6 * HOUR;
    const events: ExampleEvent[] = Array.from({ length: 600 }, (_, i) => ({ id: `e${i}`, t: start + i * 30_000 }));
    const api = await startExampleApi(events);
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'delivery-spill-rt-'));
    await rsyslog.stop();
    const from = rsyslog.lines().length;
    let logText = '';
    const logs = new PassThrough();
    logs.on('data', (d) => (logText += d));
    const config = {
      globals: {
        name: 'example_collector', persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false },
        queue_max_size_in_messages: 50, emergency_persistence_after_seconds: 0.5,
      },
      outputs: outputs(),
      inputs: { example: { id: 7, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: api.url } } } },
    };
    const runtime = new CollectorRuntime(exampleCollector, { workDir, config, logStream: logs });
    const running = runtime.run();
    closers.push(async () => {
      await runtime.stop();
      await running;
    });
    // The queue holds 50: the checkpoint can pass the last event only because the rest was spooled.
    await until('the checkpoint past the last event', () => (checkpoint(workDir) ?? 0) > events.at(-1)!.t, 15_000);
    expect(spool(join(workDir, 'state', 'delivery')).records).toBeGreaterThanOrEqual(600);
    expect(logText).toMatch(/\[EMERGENCY PERSISTENCE SYSTEM\] Output devo_1 down for [\d.]+ s: spilling \d+ queued event\(s\) to /);
    const spooledGauge = () => (runtime.metrics.registry.metrics() as Promise<string>).then((t) => Number(/^collector_output_spooled_messages\{output="devo_1",type="devo_platform"\} (\d+)$/m.exec(t)?.[1]));
    expect(await spooledGauge()).toBeGreaterThanOrEqual(600);

    await rsyslog.restart();
    await until('every event at rsyslog', () => ids(from, 'my.app.example.events').length >= 600, 15_000);
    await until('an empty spool', () => spool(join(workDir, 'state', 'delivery')).files.length === 0);
    expect(ids(from, 'my.app.example.events')).toEqual(events.map((e) => e.id));
    expect(await spooledGauge()).toBe(0);
  });

  it('kill -9 while events are spooled: the next start delivers every event once', async () => {
    const start = Date.now() - 4 * HOUR;
    const events: ExampleEvent[] = Array.from({ length: 300 }, (_, i) => ({ id: `k${i}`, t: start + i * 40_000 }));
    const api = await startExampleApi(events);
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'delivery-spill-kill-'));
    const dir = join(workDir, 'state', 'delivery');
    await rsyslog.stop();
    const from = rsyslog.lines().length;
    const env = { ...process.env, WORK_DIR: workDir, API_URL: api.url, START: new Date(start).toISOString(), OUTPUTS: JSON.stringify(outputs()), SPILL_AFTER: '0.3' };
    const run = (mode: string, killWhen?: () => boolean) =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...env, MODE: mode }, stdio: ['ignore', 'ignore', 'pipe'] });
        proc.stderr.resume();
        const poll = killWhen && setInterval(() => killWhen() && proc.kill('SIGKILL'), 25);
        proc.on('exit', (code, signal) => {
          clearInterval(poll);
          resolve({ code, signal });
        });
      });

    // Killed once every event is either spooled or committed past: the pullers did not wait for rsyslog.
    const killed = await run('daemon', () => (checkpoint(workDir) ?? 0) > events.at(-1)!.t && spool(dir).records >= 300);
    expect(killed.signal).toBe('SIGKILL');
    expect(rsyslog.lines().length).toBe(from);

    await rsyslog.restart();
    const again = await run('once');
    expect(again.code).toBe(0);
    await rsyslog.waitForLines(from + 300);
    expect(ids(from, 'my.app.example.events')).toEqual(events.map((e) => e.id));
    expect(spool(dir).files).toEqual([]);
  });
});
