import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CollectorRuntime } from '@collector/sdk/host';
import { CapturingOutput, startOtlpReceiver, type OtlpReceiver, type ReceivedMetric } from '@collector/testkit';
import { exampleCollector, startExampleApi, type ExampleEvent } from './example-input.js';

/**
 * OTLP export of the /metrics series to a local receiver that decodes what arrives (protobuf and JSON),
 * configured only through the standard OTEL_* variables; without them OpenTelemetry is never loaded.
 */
const HOUR = 3_600_000;
const OTEL_KEYS = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_METRIC_EXPORT_TIMEOUT', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_SDK_DISABLED'];
const saved = Object.fromEntries(OTEL_KEYS.map((k) => [k, process.env[k]]));
let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver?.close());
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const otelLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('@opentelemetry/sdk-metrics'));

async function collect(events = 30) {
  const start = Date.now() - 4 * HOUR;
  const api = await startExampleApi(Array.from({ length: events }, (_, i): ExampleEvent => ({ id: `o${i}`, t: start + i * 5 * 60_000 })));
  const out = new CapturingOutput();
  const logs = new PassThrough();
  let text = '';
  logs.on('data', (d) => (text += d));
  try {
    const runtime = new CollectorRuntime(exampleCollector, {
      workDir: mkdtempSync(join(tmpdir(), 'otlp-')),
      config: {
        globals: { persistence: { type: 'memory' }, http_server: { enabled: false } },
        inputs: { example: { id: 3, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: api.url } } } },
      },
      outputs: [out],
      logStream: logs,
    });
    const summary = await runtime.runOnce();
    expect(summary.errors).toEqual([]);
    return { delivered: out.records.length, requests: api.requests, logs: text };
  } finally {
    await api.close();
  }
}

const point = (metric: ReceivedMetric | undefined, attributes: Record<string, string> = {}) =>
  metric?.points.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));

describe('OTLP metrics export', () => {
  it('is off without OTEL_* variables: nothing is sent and OpenTelemetry is not even loaded', async () => {
    const { delivered, logs } = await collect(5);
    expect(delivered).toBe(5);
    expect(receiver.exports).toEqual([]);
    expect(logs).not.toContain('OTLP');
    expect(otelLoaded()).toBe(false);
  });

  it('http/protobuf (the default): the same series as /metrics arrive, counters as monotonic sums, histograms with their buckets', async () => {
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = receiver.url;
    process.env['OTEL_METRIC_EXPORT_INTERVAL'] = '200';
    process.env['OTEL_EXPORTER_OTLP_HEADERS'] = 'authorization=Bearer%20otlp-api-key-5678';
    const { delivered, requests, logs } = await collect(30);
    expect(otelLoaded()).toBe(true);
    expect(delivered).toBe(30);
    const last = receiver.exports.at(-1)!;
    expect(last.contentType).toBe('application/x-protobuf');
    expect(last.headers['authorization']).toBe('Bearer otlp-api-key-5678');
    expect(last.resource).toMatchObject({ 'service.name': 'example_collector', 'service.version': '0.0.1' });
    expect(last.scopes).toEqual(['@collector/sdk']);

    const labels = { input: 'example', service: 'events' };
    const sent = receiver.latest('collector_events_sent');
    expect(sent).toMatchObject({ kind: 'sum', monotonic: true, temporality: 2 });
    expect(point(sent, labels)?.value).toBe(30);
    expect(point(receiver.latest('collector_events_received'), labels)?.value).toBe(30);
    expect(point(receiver.latest('collector_pull_cycles'), labels)?.value).toBeGreaterThanOrEqual(1);
    const latency = receiver.latest('collector_request_duration_seconds');
    expect(latency).toMatchObject({ kind: 'histogram', unit: 's', temporality: 2 });
    const hist = point(latency, { ...labels, pool: 'default' })!;
    expect(hist.count).toBe(requests);
    expect(hist.bounds).toEqual([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
    expect(hist.bucketCounts).toHaveLength(12);
    expect(hist.bucketCounts!.reduce((a, b) => a + b, 0)).toBe(requests);
    expect(receiver.latest('collector_info')?.points[0]?.attributes).toEqual({ collector: 'example_collector', version: '0.0.1' });
    // The process and Node series too.
    const rss = receiver.latest('process_resident_memory_bytes');
    expect(rss).toMatchObject({ kind: 'gauge', unit: 'By' });
    expect(rss!.points[0]!.value).toBeGreaterThan(10 * 1024 * 1024);
    expect(receiver.latest('process_cpu_seconds')).toMatchObject({ kind: 'sum', monotonic: true });
    expect(receiver.latest('nodejs_eventloop_lag_seconds')?.kind).toBe('gauge');
    expect(logs).toContain(`Exporting metrics over OTLP (http/protobuf) to ${receiver.url}/v1/metrics every 0.2 s`);
    expect(logs).not.toContain('otlp-api-key-5678');
  });

  it('http/json, with OTEL_RESOURCE_ATTRIBUTES; an unreachable receiver is a warning, not a failure', async () => {
    const before = receiver.exports.length;
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `${receiver.url}/`;
    process.env['OTEL_EXPORTER_OTLP_PROTOCOL'] = 'http/json';
    process.env['OTEL_METRIC_EXPORT_INTERVAL'] = '200';
    process.env['OTEL_RESOURCE_ATTRIBUTES'] = 'deployment.environment=test,service.name=lark-eu';
    const { delivered } = await collect(12);
    const received = receiver.exports.slice(before);
    expect(received.length).toBeGreaterThan(0);
    const last = received.at(-1)!;
    expect(last.contentType).toContain('application/json');
    expect(last.resource).toMatchObject({ 'service.name': 'lark-eu', 'deployment.environment': 'test', 'service.version': '0.0.1' });
    const sent = last.metrics.find((m) => m.name === 'collector_events_sent');
    expect(point(sent, { input: 'example', service: 'events' })?.value).toBe(delivered);

    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = 'http://127.0.0.1:1';
    process.env['OTEL_EXPORTER_OTLP_PROTOCOL'] = 'grpc';
    process.env['OTEL_METRIC_EXPORT_TIMEOUT'] = '500';
    const failing = await collect(3);
    expect(failing.delivered).toBe(3);
    expect(failing.logs).toContain('OTLP protocol grpc is not supported (http/protobuf or http/json); exporting with http/protobuf');
    expect(failing.logs).toMatch(/WARNING .*OTLP metrics export to http:\/\/127\.0\.0\.1:1\/v1\/metrics failed/);
  });
});
