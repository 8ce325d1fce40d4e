import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime, runCollector } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';
import { exampleCollector, startExampleApi, type ExampleEvent } from './example-input.js';
import { doctorCollector, doctorConfig, hasMetric, metricSum, parseMetrics, startDoctorApi, SwitchableOutput, until } from './observability-vendor.js';

const HOUR = 3_600_000;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function capture() {
  const stream = new PassThrough();
  const log = { text: '' };
  stream.on('data', (d) => (log.text += d));
  return { stream, log };
}

function exampleConfig(url: string, start: string, globals: Record<string, unknown> = {}) {
  return {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { address: '127.0.0.1', port: 0 }, ...globals },
    inputs: { example: { id: 42, credentials: { token: 'good-token' }, services: { events: { start_time: start, override_base_url: url } } } },
  };
}

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('/metrics, /health and /ready', () => {
  it('scraped during a daemon run: the counters match what was delivered', async () => {
    const start = Date.now() - 5 * HOUR;
    const events: ExampleEvent[] = Array.from({ length: 40 }, (_, i) => ({ id: `e${i}`, t: start + i * 7 * 60_000 }));
    const api = await startExampleApi(events);
    closers.push(api.close);
    const out = new CapturingOutput();
    const { stream, log } = capture();
    const runtime = new CollectorRuntime(exampleCollector, {
      workDir: mkdtempSync(join(tmpdir(), 'obs-metrics-')),
      config: exampleConfig(api.url, new Date(start).toISOString()),
      outputs: [out],
      logStream: stream,
    });
    const running = runtime.run();
    closers.push(async () => {
      await runtime.stop();
      await running;
    });
    const runner = runtime.runners[0]!;
    await until(() => runner.totals.lastSuccess !== undefined, 10_000, 'the first pull cycle');
    const server = runtime.httpServer!;
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const metrics = await get(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    const samples = parseMetrics(metrics.body);
    const labels = { input: 'example', service: 'events' };
    expect(out.records).toHaveLength(40);
    expect(metricSum(samples, 'collector_events_sent_total', labels)).toBe(out.records.length);
    expect(metricSum(samples, 'collector_events_received_total', labels)).toBe(40);
    expect(metricSum(samples, 'collector_duplicates_filtered_total', labels)).toBe(0);
    expect(metricSum(samples, 'collector_bytes_sent_total', labels)).toBe(out.records.reduce((n, r) => n + Buffer.byteLength(r.message), 0));
    // Every request the vendor answered (setup included), all 200, each with a latency observation.
    expect(metricSum(samples, 'collector_requests_total', labels)).toBe(api.requests);
    expect(metricSum(samples, 'collector_requests_total', { ...labels, status: '200' })).toBe(api.requests);
    expect(metricSum(samples, 'collector_request_duration_seconds_count', { ...labels, pool: 'default' })).toBe(api.requests);
    expect(metricSum(samples, 'collector_errors_total', labels)).toBe(0);
    // The checkpoint is the end of the last window (now minus nothing), so the lag is small but present.
    expect(hasMetric(samples, 'collector_lag_seconds', labels)).toBe(true);
    expect(metricSum(samples, 'collector_lag_seconds', labels)).toBeLessThan(60);
    expect(metricSum(samples, 'collector_last_successful_pull_timestamp_seconds', labels)).toBeCloseTo(runner.totals.lastSuccess! / 1000, 3);
    expect(metricSum(samples, 'collector_queue_messages')).toBe(0);
    expect(metricSum(samples, 'collector_output_connected', { output: 'capture' })).toBe(1);
    expect(metricSum(samples, 'collector_ready')).toBe(1);
    expect(hasMetric(samples, 'collector_info', { collector: 'example_collector', version: '0.0.1' })).toBe(true);
    expect(metricSum(samples, 'collector_pull_cycles_total', labels)).toBe(runner.totals.cycles);
    expect(metrics.body).toContain('# TYPE collector_pull_cycles_total counter');
    // The collector's own series, and the standard process and Node series stock dashboards expect.
    expect(samples.filter((s) => !/^(collector|process|nodejs)_/.test(s.name))).toEqual([]);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(hasMetric(samples, name), name).toBe(true);
    }
    expect(metricSum(samples, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(metricSum(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    // Every counter ends in _total.
    const counters = [...metrics.body.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1]!);
    expect(counters.length).toBeGreaterThan(5);
    expect(counters.filter((n) => !n.endsWith('_total'))).toEqual([]);
    expect(metrics.body).not.toContain('good-token');

    expect((await get(`${server.url}/health`)).status).toBe(200);
    const ready = await get(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, inputs: { example: true }, outputs: { capture: true } });
    expect((await get(`${server.url}/nope`)).status).toBe(404);

    // The statistics line says how far behind the committed checkpoint is.
    expect(log.text).toMatch(/Number of events generated and sent: 40; Average of events per second: [\d.]+\. Lag: behind by \d+ s \(checkpoint \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\./);

    await runtime.stop();
    await running;
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });

  it('per-service labels, custom gauges and the lag convention for ISO checkpoints', async () => {
    const start = Date.now() - 3 * HOUR - 10 * 60_000;
    const api = await startDoctorApi({ events: Array.from({ length: 12 }, (_, i) => ({ id: `d${i}`, t: start + i * 15 * 60_000 })) });
    closers.push(api.close);
    const out = new CapturingOutput();
    const runtime = new CollectorRuntime(doctorCollector, {
      workDir: mkdtempSync(join(tmpdir(), 'obs-doctor-')),
      config: doctorConfig(api, new Date(start).toISOString()),
      outputs: [out],
      logStream: new PassThrough(),
    });
    const running = runtime.run();
    closers.push(async () => {
      await runtime.stop();
      await running;
    });
    await until(() => runtime.runners.every((r) => r.totals.lastSuccess !== undefined), 10_000, 'both services');
    const samples = parseMetrics((await get(`${runtime.httpServer!.url}/metrics`)).body);
    for (const service of ['alerts', 'audit']) {
      const labels = { input: 'doctor', service };
      const delivered = out.records.filter((r) => r.tag === `my.app.doctor.${service}`).length;
      expect(delivered).toBe(12);
      expect(metricSum(samples, 'collector_events_sent_total', labels)).toBe(delivered);
      expect(metricSum(samples, 'collector_doctor_windows_pending', labels)).toBe(0);
      expect(metricSum(samples, 'collector_lag_seconds', labels)).toBeLessThan(60);
      expect(metricSum(samples, 'collector_checkpoint_timestamp_seconds', labels)).toBeGreaterThan(Date.now() / 1000 - 60);
    }
  });

  it('errors by type and ID', async () => {
    const api = await startDoctorApi();
    closers.push(api.close);
    api.knobs.forbidden = true;
    const runtime = new CollectorRuntime(doctorCollector, {
      workDir: mkdtempSync(join(tmpdir(), 'obs-errors-')),
      config: doctorConfig(api, new Date(Date.now() - HOUR).toISOString()),
      outputs: [new CapturingOutput()],
      logStream: new PassThrough(),
    });
    const summary = await runtime.runOnce();
    expect(summary.ok).toBe(false);
    const samples = parseMetrics(await runtime.metrics.text());
    expect(metricSum(samples, 'collector_errors_total', { input: 'doctor', service: 'alerts', type: 'PullError', id: '301' })).toBe(1);
    expect(metricSum(samples, 'collector_errors_total', { input: 'doctor', service: 'audit', type: 'PullError', id: '301' })).toBe(1);
    expect(metricSum(samples, 'collector_requests_total', { status: '403' })).toBe(2);
  });

  it('429s and retries are counted per service', async () => {
    const start = Date.now() - 30 * 60_000;
    const api = await startDoctorApi({ events: [{ id: 'x', t: start + 1000 }] });
    closers.push(api.close);
    api.knobs.failures.push(429, 500);
    const config = doctorConfig(api, new Date(start).toISOString());
    const runtime = new CollectorRuntime(doctorCollector, { workDir: mkdtempSync(join(tmpdir(), 'obs-429-')), config, outputs: [new CapturingOutput()], logStream: new PassThrough() });
    expect((await runtime.runOnce()).ok).toBe(true);
    const samples = parseMetrics(await runtime.metrics.text());
    // Both services pull at once, so which one met the 429 varies: count over the input.
    const input = { input: 'doctor' };
    expect(metricSum(samples, 'collector_throttled_total', { ...input, pool: 'default' })).toBe(1);
    expect(metricSum(samples, 'collector_retries_total', { ...input, reason: 'http 500' })).toBe(1);
    expect(metricSum(samples, 'collector_requests_total', { ...input, status: '429' })).toBe(1);
    expect(metricSum(samples, 'collector_requests_total', { ...input, status: '500' })).toBe(1);
    expect(metricSum(samples, 'collector_events_sent_total', input)).toBe(2);
  });

  it('/ready is 503 while the output is down and 200 once it is back', async () => {
    const start = Date.now() - HOUR;
    const api = await startExampleApi([{ id: 'a', t: start + 1000 }]);
    closers.push(api.close);
    const out = new SwitchableOutput();
    out.up = false;
    const runtime = new CollectorRuntime(exampleCollector, {
      workDir: mkdtempSync(join(tmpdir(), 'obs-ready-')),
      config: exampleConfig(api.url, new Date(start).toISOString()),
      outputs: [out],
      logStream: new PassThrough(),
    });
    (runtime.delivery as unknown as { options: { retryInitialMs: number; retryMaxMs: number } }).options.retryInitialMs = 20;
    (runtime.delivery as unknown as { options: { retryInitialMs: number; retryMaxMs: number } }).options.retryMaxMs = 50;
    const running = runtime.run();
    closers.push(async () => {
      await runtime.stop();
      await running;
    });
    await until(() => runtime.readiness().inputs['example'] === true && runtime.httpServer !== undefined, 10_000, 'setup');
    const url = runtime.httpServer!.url;
    const down = await get(`${url}/ready`);
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toEqual({ ready: false, inputs: { example: true }, outputs: { switchable: false } });
    expect((await get(`${url}/health`)).status).toBe(200);
    expect(metricSum(parseMetrics((await get(`${url}/metrics`)).body), 'collector_output_connected', { output: 'switchable' })).toBe(0);
    out.up = true;
    await until(() => out.records.length === 1, 10_000, 'delivery after the output came back');
    expect((await get(`${url}/ready`)).status).toBe(200);
  });

  it('a port in use is logged as ConfigError 20 and collection goes on', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const start = Date.now() - HOUR;
    const api = await startExampleApi([{ id: 'a', t: start + 1000 }]);
    closers.push(api.close);
    const out = new CapturingOutput();
    const { stream, log } = capture();
    const runtime = new CollectorRuntime(exampleCollector, {
      workDir: mkdtempSync(join(tmpdir(), 'obs-port-')),
      config: exampleConfig(api.url, new Date(start).toISOString(), { http_server: { address: '127.0.0.1', port } }),
      outputs: [out],
      logStream: stream,
    });
    const summary = await runtime.runOnce();
    expect(summary.ok).toBe(true);
    expect(out.ids()).toEqual(['a']);
    expect(log.text).toContain(`ConfigError 20: Cannot serve /metrics, /health and /ready on 127.0.0.1:${port} (the port is already in use); collection continues without them (globals.http_server.port)`);
  });

  it('the --once summary lines say how far behind each service is', async () => {
    const start = Date.now() - 3 * HOUR;
    const api = await startDoctorApi({ events: [{ id: 'a', t: start + 1000 }] });
    closers.push(api.close);
    const { stream, log } = capture();
    const code = await runCollector(doctorCollector, {
      argv: ['--once'],
      workDir: mkdtempSync(join(tmpdir(), 'obs-once-')),
      config: doctorConfig(api, new Date(start).toISOString()),
      outputs: [new CapturingOutput()],
      logStream: stream,
      handleSignals: false,
    });
    expect(code).toBe(0);
    expect(log.text).toMatch(/Summary doctor\/alerts: received 1, duplicates 0, sent 1, errors 0\. Lag: behind by \d+ s \(checkpoint \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\./);
    expect(log.text).toMatch(/Summary doctor\/audit: received 1, duplicates 0, sent 1, errors 0\. Lag: behind by/);
  });

  it('http_server.enabled: false serves nothing', async () => {
    const api = await startExampleApi([]);
    closers.push(api.close);
    const { stream, log } = capture();
    const runtime = new CollectorRuntime(exampleCollector, {
      workDir: mkdtempSync(join(tmpdir(), 'obs-off-')),
      config: exampleConfig(api.url, new Date(Date.now() - HOUR).toISOString(), { http_server: { enabled: false } }),
      outputs: [new CapturingOutput()],
      logStream: stream,
    });
    const running = runtime.runOnce();
    expect(runtime.httpServer).toBeUndefined();
    expect((await running).ok).toBe(true);
    expect(log.text).not.toContain('Serving /metrics');
  });
});
