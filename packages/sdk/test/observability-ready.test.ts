import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime } from '@collector/sdk/host';
import { devoOutputConfig, startRsyslog } from '@collector/testkit';
import { exampleCollector, startExampleApi } from './example-input.js';
import { metricSum, parseMetrics, until } from './observability-vendor.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function readyStatus(url: string): Promise<{ status: number; body: { ready: boolean; outputs: Record<string, boolean> } }> {
  const res = await fetch(`${url}/ready`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; outputs: Record<string, boolean> } };
}

describe('/ready against the real Devo stand-in (rsyslog over TLS)', () => {
  it('is false while the receiver is down and true after it comes back', async () => {
    const rsyslog = await startRsyslog();
    closers.push(() => rsyslog.stop());
    const start = Date.now() - 60 * 60_000;
    const api = await startExampleApi([{ id: 'first', t: start + 1000 }]);
    closers.push(api.close);
    const runtime = new CollectorRuntime(exampleCollector, {
      workDir: mkdtempSync(join(tmpdir(), 'obs-rsyslog-')),
      config: {
        globals: { http_server: { address: '127.0.0.1', port: 0 } },
        outputs: devoOutputConfig(rsyslog),
        inputs: {
          example: { id: 1, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: api.url, request_period_in_seconds: 1 } } },
        },
      },
      logStream: new PassThrough(),
    });
    const running = runtime.run();
    closers.push(async () => {
      await runtime.stop();
      await running;
    });
    const runner = runtime.runners[0]!;
    // The first cycle is over once its event was acknowledged and the checkpoint committed.
    await until(() => runner.totals.lastSuccess !== undefined, 20_000, 'the first cycle');
    await until(() => runtime.httpServer !== undefined && runtime.ready(), 10_000, 'ready');
    const url = runtime.httpServer!.url;
    expect(await readyStatus(url)).toEqual({ status: 200, body: { ready: true, inputs: { example: true }, outputs: { devo_1: true } } });

    await rsyslog.stop();
    await until(() => !runtime.ready(), 10_000, 'the output noticing the receiver is gone');
    const down = await readyStatus(url);
    expect(down.status).toBe(503);
    expect(down.body.outputs).toEqual({ devo_1: false });
    expect(metricSum(parseMetrics(await (await fetch(`${url}/metrics`)).text()), 'collector_output_connected', { output: 'devo_1' })).toBe(0);
    expect((await fetch(`${url}/health`)).status).toBe(200);

    await rsyslog.restart();
    // A new event makes the output reconnect (if it did not already on its own).
    api.events.push({ id: 'second', t: Date.now() + 200 });
    await until(() => runner.totals.sent === 2, 20_000, 'the second event acknowledged');
    expect(rsyslog.lines().filter((l) => l.includes('"id":"second"'))).toHaveLength(1);
    await until(() => runtime.ready(), 10_000, 'ready again');
    expect((await readyStatus(url)).status).toBe(200);
    // The output's own wire counters (internal log lines may travel the same connection, hence ≥).
    const samples = parseMetrics(await (await fetch(`${url}/metrics`)).text());
    expect(metricSum(samples, 'collector_output_messages_total', { output: 'devo_1', type: 'devo_platform' })).toBeGreaterThanOrEqual(2);
    expect(metricSum(samples, 'collector_output_bytes_total', { output: 'devo_1' })).toBeGreaterThan(0);
    expect(metricSum(samples, 'collector_events_sent_total', { input: 'example', service: 'events' })).toBe(2);
  });
});
