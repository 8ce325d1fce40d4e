import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { CollectorError } from '../errors/collector-error.js';
import type { HttpObserver } from '../http/http-client.js';
import { EventLoopLag } from './event-loop-lag.js';
import type { ServiceGauges } from './service-gauges.js';

export type { ServiceGauges } from './service-gauges.js';

/**
 * Prometheus metrics of one collector runtime, on a registry of its own (several runtimes share a test
 * process; the global prom-client registry would mix them). Every name starts with `collector_`; per-service
 * series carry `input` and `service` labels. Counters are pushed by the service runners and HTTP clients;
 * gauges (lag, last success, budgets, queue, outputs) are read from the runtime at scrape time.
 * `/metrics` adds prom-client's default `process_*` and `nodejs_*` series (CPU, memory, file descriptors,
 * heap, GC, event-loop lag) from one registry per process.
 */

let defaults: Registry | undefined;

/** prom-client's event-loop-lag series, replaced by ours of the same names and meaning (event-loop-lag.ts). */
const LAG = 'nodejs_eventloop_lag';
const LAG_STATS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const;
/**
 * prom-client always enables a `monitorEventLoopDelay` at this resolution and offers no way to leave that
 * collector out; 2^31-1 ms (24.8 days) keeps its native timer from ever firing. Its series are removed below.
 */
const NEVER_MS = 2 ** 31 - 1;

/**
 * prom-client's default collectors, once per process: they install a GC observer and an event-loop delay
 * monitor that are never removed, so one set per runtime would leak when many runtimes share a process.
 */
function processRegistry(): Registry {
  if (!defaults) {
    defaults = new Registry();
    collectDefaultMetrics({ register: defaults, eventLoopMonitoringPrecision: NEVER_MS });
    eventLoopLagGauges(defaults);
  }
  return defaults;
}

/**
 * `nodejs_eventloop_lag_seconds`: how late a setImmediate runs, measured at scrape time (the scrape waits for
 * it); the others: the lateness of the lag monitor's timer since the previous scrape or OTLP export, in seconds.
 */
function eventLoopLagGauges(registry: Registry): void {
  for (const name of [`${LAG}_seconds`, ...LAG_STATS.map((s) => `${LAG}_${s}_seconds`)]) registry.removeSingleMetric(name);
  const monitor = new EventLoopLag();
  monitor.start();
  const registers = [registry];
  new Gauge({
    name: `${LAG}_seconds`,
    help: 'Lag of event loop in seconds.',
    registers,
    // This collect sets every series: registered first, it runs (up to its await) before prom-client reads the others.
    async collect() {
      const summary = monitor.take();
      for (const stat of LAG_STATS) stats[stat].set(summary[stat]);
      const start = process.hrtime.bigint();
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.set(Number(process.hrtime.bigint() - start) / 1e9);
    },
  });
  const stats = Object.fromEntries(
    LAG_STATS.map((stat) => [stat, new Gauge({ name: `${LAG}_${stat}_seconds`, help: `The ${stat} of how late the event loop ran a due timer since the previous collection`, registers })]),
  ) as Record<(typeof LAG_STATS)[number], Gauge>;
}

/** What a service runner reports. */
export interface ServiceMetrics extends ServiceGauges {
  readonly labels: Readonly<{ input: string; service: string }>;
  received(count: number): void;
  duplicates(count: number): void;
  /** Events acknowledged by every output, and their size in bytes as serialised. */
  sent(count: number, bytes: number): void;
  error(error: unknown): void;
  /** Plug into the service's HttpClient: requests, latency, retries and 429s. */
  readonly http: HttpObserver;
}

export interface ServiceView {
  input: string;
  service: string;
  cycles: number;
  /** Epoch ms of the last pull cycle that completed without error. */
  lastSuccess?: number;
  /** The time the committed checkpoint stands for. */
  checkpointTime?: Date;
}

/** Read at every scrape. */
export interface MetricsSources {
  services(): ServiceView[];
  /** Requests left in the tightest `requests_limits` window of each pool (unlimited pools are left out). */
  budgets(): { input: string; pool: string; remaining: number }[];
  queue(): { messages: number; bytes: number };
  /** `counters`: what an output reports of its own (the stream outputs do), counted on the wire. */
  outputs(): { name: string; type: string; ready: boolean; counters?: OutputCounters; spooled?: { messages: number; bytes: number } }[];
  ready(): boolean;
}

export interface OutputCounters {
  messages: number;
  bytes: number;
  failedWrites: number;
}

export interface CollectorMetricsOptions {
  collector: string;
  version: string;
}

const LABELS = ['input', 'service'] as const;
const NAME = /^[a-z_][a-z0-9_]*$/;
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** `type` and `id` labels of an error: `SetupError`/`100`, `HttpError`/`network`, `TypeError`/``. */
export function errorLabels(error: unknown): { type: string; id: string } {
  if (error instanceof CollectorError) return { type: error.type, id: String(error.id) };
  if (error instanceof Error) {
    const kind = (error as { kind?: unknown }).kind;
    return { type: error.name || 'Error', id: typeof kind === 'string' ? kind : '' };
  }
  return { type: 'Error', id: '' };
}

export class CollectorMetrics {
  readonly registry = new Registry();
  private sources: MetricsSources | undefined;
  private readonly custom = new Map<string, Gauge<string>>();
  private readonly customCounters = new Map<string, Counter<string>>();

  private readonly requests: Counter<string>;
  private readonly received: Counter<string>;
  private readonly duplicates: Counter<string>;
  private readonly sentEvents: Counter<string>;
  private readonly sentBytes: Counter<string>;
  private readonly errors: Counter<string>;
  private readonly retries: Counter<string>;
  private readonly throttled: Counter<string>;
  private readonly latency: Histogram<string>;

  constructor(options: CollectorMetricsOptions) {
    const registers = [this.registry];
    const view = () => this.sources;
    this.requests = new Counter({ name: 'collector_requests_total', help: 'HTTP requests answered by the vendor API, by status code', labelNames: [...LABELS, 'status'], registers });
    this.received = new Counter({ name: 'collector_events_received_total', help: 'Events received from the vendor', labelNames: LABELS, registers });
    this.duplicates = new Counter({ name: 'collector_duplicates_filtered_total', help: 'Events dropped because the dedup window had seen them', labelNames: LABELS, registers });
    this.sentEvents = new Counter({ name: 'collector_events_sent_total', help: 'Events acknowledged by every output', labelNames: LABELS, registers });
    this.sentBytes = new Counter({ name: 'collector_bytes_sent_total', help: 'Bytes of the events acknowledged by every output (serialised message)', labelNames: LABELS, registers });
    this.errors = new Counter({ name: 'collector_errors_total', help: 'Failed pull cycles and setups, by error type and ID', labelNames: [...LABELS, 'type', 'id'], registers });
    this.retries = new Counter({ name: 'collector_retries_total', help: 'HTTP retries after network errors and 5xx', labelNames: [...LABELS, 'reason'], registers });
    this.throttled = new Counter({ name: 'collector_throttled_total', help: 'Throttled responses (HTTP 429 or the vendor equivalent)', labelNames: [...LABELS, 'pool'], registers });
    this.latency = new Histogram({ name: 'collector_request_duration_seconds', help: 'Vendor API request latency (one attempt)', labelNames: [...LABELS, 'pool'], buckets: LATENCY_BUCKETS, registers });

    new Gauge({
      name: 'collector_info',
      help: 'Always 1; the collector name and version as labels',
      labelNames: ['collector', 'version'],
      registers,
      collect() {
        this.set({ collector: options.collector, version: options.version }, 1);
      },
    });
    new Gauge({
      name: 'collector_ready',
      help: '1 when every enabled input finished setup and every output is connected (/ready)',
      registers,
      collect() {
        const sources = view();
        if (sources) this.set(sources.ready() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'collector_lag_seconds',
      help: 'Now minus the time of the committed checkpoint',
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const s of view()?.services() ?? []) if (s.checkpointTime) this.set({ input: s.input, service: s.service }, Math.max(0, (now - s.checkpointTime.getTime()) / 1000));
      },
    });
    new Gauge({
      name: 'collector_checkpoint_timestamp_seconds',
      help: 'The time of the committed checkpoint (epoch seconds)',
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const s of view()?.services() ?? []) if (s.checkpointTime) this.set({ input: s.input, service: s.service }, s.checkpointTime.getTime() / 1000);
      },
    });
    new Gauge({
      name: 'collector_last_successful_pull_timestamp_seconds',
      help: 'When the last pull cycle completed without error (epoch seconds)',
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const s of view()?.services() ?? []) if (s.lastSuccess !== undefined) this.set({ input: s.input, service: s.service }, s.lastSuccess / 1000);
      },
    });
    new Counter({
      name: 'collector_pull_cycles_total',
      help: 'Pull cycles run since start (successful or not)',
      labelNames: LABELS,
      registers,
      collect() {
        // The runner keeps the running total; mirror it (reset + inc keeps the counter type).
        this.reset();
        for (const s of view()?.services() ?? []) this.inc({ input: s.input, service: s.service }, s.cycles);
      },
    });
    new Gauge({
      name: 'collector_request_budget_remaining',
      help: 'Requests left in the tightest requests_limits window of the pool',
      labelNames: ['input', 'pool'],
      registers,
      collect() {
        this.reset();
        for (const b of view()?.budgets() ?? []) if (Number.isFinite(b.remaining)) this.set({ input: b.input, pool: b.pool }, b.remaining);
      },
    });
    new Gauge({
      name: 'collector_queue_messages',
      help: 'Events queued for the outputs and not yet acknowledged',
      registers,
      collect() {
        this.set(view()?.queue().messages ?? 0);
      },
    });
    new Gauge({
      name: 'collector_queue_bytes',
      help: 'Bytes queued for the outputs and not yet acknowledged',
      registers,
      collect() {
        this.set(view()?.queue().bytes ?? 0);
      },
    });
    new Gauge({
      name: 'collector_output_connected',
      help: '1 when the output is connected (able to accept writes now)',
      labelNames: ['output', 'type'],
      registers,
      collect() {
        this.reset();
        for (const o of view()?.outputs() ?? []) this.set({ output: o.name, type: o.type }, o.ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'collector_output_spooled_messages',
      help: 'Events of the output held in its emergency persistence (state/delivery), acknowledged to the pullers and waiting to be re-sent',
      labelNames: ['output', 'type'],
      registers,
      collect() {
        this.reset();
        for (const o of view()?.outputs() ?? []) if (o.spooled) this.set({ output: o.name, type: o.type }, o.spooled.messages);
      },
    });
    new Gauge({
      name: 'collector_output_spooled_bytes',
      help: 'Size on disk of the output\'s emergency persistence files (state/delivery)',
      labelNames: ['output', 'type'],
      registers,
      collect() {
        this.reset();
        for (const o of view()?.outputs() ?? []) if (o.spooled) this.set({ output: o.name, type: o.type }, o.spooled.bytes);
      },
    });
    const outputCounter = (name: string, help: string, pick: (c: OutputCounters) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['output', 'type'],
        registers,
        collect() {
          // The output keeps the running total; mirror it (reset + inc keeps the counter type).
          this.reset();
          for (const o of view()?.outputs() ?? []) if (o.counters) this.inc({ output: o.name, type: o.type }, Math.max(0, pick(o.counters)));
        },
      });
    outputCounter('collector_output_messages_total', 'Messages the output wrote and had acknowledged by the connection', (c) => c.messages);
    outputCounter('collector_output_bytes_total', 'Bytes the output wrote on the wire (framing and compression included)', (c) => c.bytes);
    outputCounter('collector_output_failed_writes_total', 'Writes that failed and were retried', (c) => c.failedWrites);
    processRegistry(); // the process and Node metrics start being measured with the first runtime
  }

  /** Connects the scrape-time gauges to the runtime. */
  observe(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** The reporter of one service; its counters start at 0 so a scrape shows them before the first event. */
  service(input: string, service: string): ServiceMetrics {
    const labels = Object.freeze({ input, service });
    for (const counter of [this.received, this.duplicates, this.sentEvents, this.sentBytes]) counter.inc(labels, 0);
    return {
      labels,
      received: (count) => count > 0 && this.received.inc(labels, count),
      duplicates: (count) => count > 0 && this.duplicates.inc(labels, count),
      sent: (count, bytes) => {
        if (count > 0) this.sentEvents.inc(labels, count);
        if (bytes > 0) this.sentBytes.inc(labels, bytes);
      },
      error: (error) => this.errors.inc({ ...labels, ...errorLabels(error) }),
      http: {
        onResponse: (status, durationMs, pool) => {
          this.requests.inc({ ...labels, status: String(status) });
          this.latency.observe({ ...labels, pool }, durationMs / 1000);
        },
        onRetry: (reason) => this.retries.inc({ ...labels, reason }),
        onThrottled: (pool) => this.throttled.inc({ ...labels, pool }),
      },
      gauge: (name, value) => this.customGauge(name).set(labels, value),
      count: (name, delta) => {
        if (delta > 0) this.customCounter(name).inc(labels, delta);
      },
    };
  }

  private customCounter(name: string): Counter<string> {
    const full = `${name.startsWith('collector_') ? name : `collector_${name}`}_total`;
    let counter = this.customCounters.get(full);
    if (!counter) {
      if (!NAME.test(full)) throw new Error(`Invalid metric name "${name}": use lower-case letters, digits and _`);
      if (this.registry.getSingleMetric(full)) throw new Error(`Metric ${full} is built in; pick another name`);
      counter = new Counter({ name: full, help: `Counted by the service (ctx.metrics.count('${name}'))`, labelNames: LABELS, registers: [this.registry] });
      this.customCounters.set(full, counter);
    }
    return counter;
  }

  private customGauge(name: string): Gauge<string> {
    const full = name.startsWith('collector_') ? name : `collector_${name}`;
    let gauge = this.custom.get(full);
    if (!gauge) {
      if (!NAME.test(full)) throw new Error(`Invalid metric name "${name}": use lower-case letters, digits and _`);
      if (this.registry.getSingleMetric(full)) throw new Error(`Metric ${full} is built in; pick another name`);
      gauge = new Gauge({ name: full, help: `Set by the service (ctx.metrics.gauge('${name}'))`, labelNames: LABELS, registers: [this.registry] });
      this.custom.set(full, gauge);
    }
    return gauge;
  }

  /** The Prometheus text exposition: this runtime's `collector_*` series, then the process's `process_*`/`nodejs_*`. */
  async text(): Promise<string> {
    return `${await this.registry.metrics()}\n${await processRegistry().metrics()}`;
  }

  /** Every series as prom-client JSON (the OTLP export reads this). */
  async json(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    return [...(await this.registry.getMetricsAsJSON()), ...(await processRegistry().getMetricsAsJSON())];
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
