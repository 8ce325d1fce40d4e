import { registerSecret } from '../secrets/redactor.js';
import type { Logger } from './logger.js';
import type { OtlpExport, OtlpExportContext, OtlpProtocol, OtlpSettings } from './otlp-types.js';

/**
 * Whether and how to export the metrics over OTLP, from the standard OpenTelemetry variables. This module
 * loads nothing of OpenTelemetry: the SDK and its exporters (otlp-export.ts) are imported only when an
 * export is asked for, so a collector that does not use it does not pay for them.
 */

export type { OtlpExport, OtlpExportContext, OtlpProtocol, OtlpSettings } from './otlp-types.js';

const DEFAULT_ENDPOINT = 'http://localhost:4318';

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * The export is on when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is set, or
 * `OTEL_METRICS_EXPORTER` names `otlp`; off with `OTEL_SDK_DISABLED=true` or `OTEL_METRICS_EXPORTER=none`.
 * `warnings` says what was not understood (gRPC, an unknown protocol): never ignored silently.
 */
export function otlpSettings(env: NodeJS.ProcessEnv = process.env): { settings?: OtlpSettings; warnings: string[] } {
  const warnings: string[] = [];
  const exporters = (env['OTEL_METRICS_EXPORTER'] ?? '').split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true' || exporters.includes('none')) return { warnings };
  const metricsEndpoint = env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']?.trim();
  const baseEndpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  if (!metricsEndpoint && !baseEndpoint && !exporters.includes('otlp')) return { warnings };
  for (const other of exporters.filter((e) => e !== 'otlp')) warnings.push(`OTEL_METRICS_EXPORTER=${other} is not supported (only otlp; /metrics serves Prometheus)`);
  const wanted = (env['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'http/protobuf').trim().toLowerCase();
  let protocol: OtlpProtocol = 'http/protobuf';
  if (wanted === 'http/json') protocol = 'http/json';
  else if (wanted !== 'http/protobuf') warnings.push(`OTLP protocol ${wanted} is not supported (http/protobuf or http/json); exporting with http/protobuf, whose default port is 4318`);
  // Header values are usually API keys: secrets from here on.
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_METRICS_HEADERS']) {
    for (const pair of (env[name] ?? '').split(',')) {
      const value = pair.slice(pair.indexOf('=') + 1).trim();
      if (pair.includes('=') && value) {
        registerSecret(value);
        try {
          registerSecret(decodeURIComponent(value));
        } catch {
          // not percent-encoded
        }
      }
    }
  }
  const endpoint = metricsEndpoint || `${(baseEndpoint || DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/metrics`;
  return {
    settings: { protocol, endpoint, intervalMs: positive(env['OTEL_METRIC_EXPORT_INTERVAL'], 60_000), timeoutMs: positive(env['OTEL_METRIC_EXPORT_TIMEOUT'], 30_000) },
    warnings,
  };
}

/** Starts the OTLP export when the environment asks for it (loading OpenTelemetry only then); else undefined. */
export async function startOtlpExportFromEnv(context: OtlpExportContext, env: NodeJS.ProcessEnv = process.env): Promise<OtlpExport | undefined> {
  const { settings, warnings } = otlpSettings(env);
  for (const warning of warnings) context.log.warning(warning);
  if (!settings) return undefined;
  const { startOtlpExport } = await import('./otlp-export.js');
  return startOtlpExport(settings, context);
}
