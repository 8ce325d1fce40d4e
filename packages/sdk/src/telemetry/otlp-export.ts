import { ValueType, type HrTime } from '@opentelemetry/api';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { MetricObjectWithValues, MetricValue, MetricValueWithName } from 'prom-client';
import { redact } from '../secrets/redactor.js';
import type { OtlpExport, OtlpExportContext, OtlpSettings } from './otlp-types.js';

/**
 * The OTLP export of the `/metrics` series, loaded only when asked for (otlp.ts). The prom-client registry
 * stays the one source: a MetricProducer converts what a scrape would show into OTLP data points at every
 * export, so both views always agree. Mapping (OpenTelemetry's Prometheus compatibility rules): a counter is
 * a cumulative monotonic sum named without `_total`; a gauge is a gauge; a histogram keeps its buckets, sum
 * and count; labels become attributes; `_seconds` and `_bytes` give the units `s` and `By`.
 */

const SHUTDOWN_LIMIT_MS = 5_000;

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
}

function unitOf(name: string): string {
  if (/_seconds(_total)?$/.test(name)) return 's';
  if (/_bytes(_total)?$/.test(name)) return 'By';
  return '';
}

type PromMetric = MetricObjectWithValues<MetricValue<string>>;

/** prom-client JSON → OTLP metric data (summaries are not used by the collectors and are left out). */
export function toOtlpMetrics(metrics: PromMetric[], startTime: HrTime, endTime: HrTime): MetricData[] {
  const out: MetricData[] = [];
  for (const metric of metrics) {
    const descriptor = { description: metric.help, unit: unitOf(metric.name), valueType: ValueType.DOUBLE };
    const points = (values: MetricValue<string>[]) => values.map((v) => ({ startTime, endTime, attributes: { ...v.labels }, value: v.value }));
    const type = String(metric.type); // prom-client's MetricType values: counter, gauge, histogram, summary
    if (type === 'counter') {
      out.push({
        descriptor: { ...descriptor, name: metric.name.replace(/_total$/, '') },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: points(metric.values),
      });
    } else if (type === 'gauge') {
      out.push({ descriptor: { ...descriptor, name: metric.name }, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints: points(metric.values) });
    } else if (type === 'histogram') {
      // prom-client lists `_bucket` (cumulative, with `le`), `_sum` and `_count` samples per label set.
      const series = new Map<string, { attributes: Record<string, string | number>; bounds: [number, number][]; sum: number; count: number }>();
      for (const v of metric.values as MetricValueWithName<string>[]) {
        const { le, ...labels } = v.labels as Record<string, string | number>;
        const key = JSON.stringify(Object.entries(labels).sort());
        let s = series.get(key);
        if (!s) series.set(key, (s = { attributes: labels, bounds: [], sum: 0, count: 0 }));
        if (v.metricName?.endsWith('_bucket')) s.bounds.push([le === '+Inf' ? Infinity : Number(le), v.value]);
        else if (v.metricName?.endsWith('_sum')) s.sum = v.value;
        else if (v.metricName?.endsWith('_count')) s.count = v.value;
      }
      out.push({
        descriptor: { ...descriptor, name: metric.name },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [...series.values()].map((s) => {
          const sorted = s.bounds.sort((a, b) => a[0] - b[0]);
          const boundaries = sorted.filter(([b]) => Number.isFinite(b)).map(([b]) => b);
          // Cumulative bucket counts → per-bucket counts; the last bucket is (last boundary, +Inf).
          const cumulative = [...sorted.filter(([b]) => Number.isFinite(b)).map(([, c]) => c), s.count];
          const counts = cumulative.map((c, i) => c - (i === 0 ? 0 : cumulative[i - 1]!));
          return { startTime, endTime, attributes: s.attributes, value: { buckets: { boundaries, counts }, sum: s.sum, count: s.count } };
        }),
      });
    }
  }
  return out;
}

/** Logs a failed export once per failure streak, and the recovery (the SDK itself would stay silent). */
function loggingExporter(inner: PushMetricExporter, settings: OtlpSettings, context: OtlpExportContext): PushMetricExporter {
  let failing = false;
  return {
    export(metrics: ResourceMetrics, done) {
      inner.export(metrics, (result) => {
        if (result.error || result.code !== 0) {
          if (!failing) context.log.warning(`OTLP metrics export to ${settings.endpoint} failed: ${redact(String(result.error?.message ?? result.error ?? 'unknown error'))}; retrying every ${settings.intervalMs / 1000} s`);
          failing = true;
        } else if (failing) {
          failing = false;
          context.log.info(`OTLP metrics export to ${settings.endpoint} works again`);
        }
        done(result);
      });
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    ...(inner.selectAggregationTemporality ? { selectAggregationTemporality: inner.selectAggregationTemporality.bind(inner) } : {}),
  };
}

export function startOtlpExport(settings: OtlpSettings, context: OtlpExportContext): OtlpExport {
  const started = Date.now();
  const producer: MetricProducer = {
    async collect(): Promise<CollectionResult> {
      const metrics = toOtlpMetrics(await context.metrics.json(), hrTime(started), hrTime(Date.now()));
      return {
        resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: '@collector/sdk', version: context.serviceVersion }, metrics }] },
        errors: [],
      };
    },
  };
  const Exporter = settings.protocol === 'http/json' ? JsonExporter : ProtobufExporter;
  const exporter = loggingExporter(new Exporter({ url: settings.endpoint, timeoutMillis: settings.timeoutMs }), settings, context);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: settings.intervalMs, exportTimeoutMillis: Math.min(settings.timeoutMs, settings.intervalMs), metricProducers: [producer] });
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the collector's own values.
  const resource = resourceFromAttributes({ 'service.name': context.serviceName, 'service.version': context.serviceVersion }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new MeterProvider({ resource, readers: [reader] });
  context.log.info(`Exporting metrics over OTLP (${settings.protocol}) to ${settings.endpoint} every ${settings.intervalMs / 1000} s`);
  return {
    async shutdown() {
      // A stop must not wait on an unreachable receiver (Kubernetes gives 30 s for everything): at most 5 s.
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_LIMIT_MS)));
      await Promise.race([
        provider.shutdown().catch((error: unknown) => context.log.warning(`OTLP metrics export: the last export failed: ${redact(String((error as Error)?.message ?? error))}`)),
        limit.then(() => context.log.warning(`OTLP metrics export: the last export did not finish within ${SHUTDOWN_LIMIT_MS / 1000} s; stopping without it`)),
      ]);
      clearTimeout(timer);
    },
  };
}
