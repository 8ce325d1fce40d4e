import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime, stateFileName } from '@collector/sdk/host';
import { devoOutputConfig } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';
import { exampleCollector, startExampleApi, type ExampleEvent } from './example-input.js';

const HOUR = 3_600_000;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const rsyslog = useRsyslog();

function events(start: number, count: number): ExampleEvent[] {
  return Array.from({ length: count }, (_, i) => ({ id: `e${i}`, t: start + i * 60_000 }));
}

function config(url: string, start: number) {
  const outputs = devoOutputConfig(rsyslog);
  Object.assign(outputs['devo_1']!.config, { connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 });
  return {
    globals: { name: 'example_collector', persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } },
    outputs,
    inputs: { example: { id: 7, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: url } } } },
  };
}

/** Event ids in rsyslog lines since `from`. */
function ids(from: number): string[] {
  return rsyslog
    .lines()
    .slice(from)
    .filter((l) => l.includes(' my.app.example.events: '))
    .map((l) => (JSON.parse(l.slice(l.indexOf(': ') + 2)) as ExampleEvent).id);
}

describe('CollectorRuntime delivering to rsyslog through the configured devo_platform output', () => {
  it('delivers every event once as a DCSDK line and forwards its own log lines on devo.collectors.out.local.*', async () => {
    const start = Date.now() - 2 * HOUR;
    const api = await startExampleApi(events(start, 40));
    closers.push(api.close);
    const from = rsyslog.lines().length;
    const runtime = new CollectorRuntime(exampleCollector, { workDir: mkdtempSync(join(tmpdir(), 'delivery-rt-')), config: config(api.url, start), logStream: new PassThrough() });
    const summary = await runtime.runOnce();
    expect(summary.ok).toBe(true);
    await rsyslog.waitForLines(from + 40);
    expect(ids(from).sort()).toEqual(api.events.map((e) => e.id).sort());
    const line = rsyslog.lines().slice(from).find((l) => l.includes(' my.app.example.events: '))!;
    expect(line).toMatch(new RegExp(`^<14>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} my\\.app\\.example\\.events: \\{"id":"e\\d+","t":\\d+,"@devo_pulling_id":"\\d+"\\}$`));
    const internal = rsyslog.lines().slice(from).filter((l) => l.includes(' devo.collectors.out.local.info: '));
    const pullStarted = internal.map((l) => JSON.parse(l.slice(l.indexOf(': ') + 2)) as Record<string, unknown>).find((j) => j['msg'] === 'Pull Started');
    expect(pullStarted).toMatchObject({ level: 'info', collector_name: 'example_collector', collector_version: '0.0.1', input_name: 'example', service_name: 'events' });
  });

  it('stop() with the receiver down saves the queue under state/delivery, commits, and the next start sends it first', async () => {
    const start = Date.now() - 3 * HOUR;
    const api = await startExampleApi(events(start, 30));
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'delivery-rt-'));
    await rsyslog.stop();
    const from = rsyslog.lines().length;
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (d) => (logText += d));
    const first = new CollectorRuntime(exampleCollector, { workDir, config: config(api.url, start), logStream: logs });
    const running = first.run();
    // Wait until the events are pulled and stuck in the queue (the receiver is down).
    const deadline = Date.now() + 10_000;
    while (first.delivery.pendingFor('devo_1').messages < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(first.delivery.pendingFor('devo_1').messages).toBeGreaterThanOrEqual(30);
    await first.stop();
    await running;
    const saved = readdirSync(join(workDir, 'state', 'delivery')).filter((f) => f.endsWith('.jsonl'));
    expect(saved).toHaveLength(1);
    expect(readFileSync(join(workDir, 'state', 'delivery', saved[0]!), 'utf8').split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(30);
    expect(logText).toMatch(/\[EMERGENCY PERSISTENCE SYSTEM\] devo_1 -> \d+ message\(s\) saved to/);
    // The checkpoint moved past every event (all 30 are in the first window): they are safe on disk, so
    // they are not pulled again.
    const state = JSON.parse(readFileSync(join(workDir, 'state', stateFileName('example;7;events')), 'utf8'));
    expect(state.checkpoint).toBeGreaterThanOrEqual(start + HOUR);

    await rsyslog.restart();
    const second = new CollectorRuntime(exampleCollector, { workDir, config: config(api.url, start), logStream: new PassThrough() });
    expect((await second.runOnce()).ok).toBe(true);
    await rsyslog.waitForLines(from + 30);
    // Exactly once: the emergency file re-sent them, the pull did not fetch them again.
    expect(ids(from).sort()).toEqual(api.events.map((e) => e.id).sort());
    expect(readdirSync(join(workDir, 'state', 'delivery')).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  });
});
