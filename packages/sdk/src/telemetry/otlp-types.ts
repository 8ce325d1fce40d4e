// The OTLP export's settings and handles, shared by the settings reader (otlp.ts) and the lazily loaded
// exporter (otlp-export.ts), so neither imports the other for its types.
import type { Logger } from './logger.js';
import type { CollectorMetrics } from './metrics.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpSettings {
  protocol: OtlpProtocol;
  /** Where the metrics go (for the log line; the exporter reads the same variables itself). */
  endpoint: string;
  intervalMs: number;
  timeoutMs: number;
}

/** What the export needs from the runtime. */
export interface OtlpExportContext {
  metrics: CollectorMetrics;
  log: Logger;
  /** `service.name` unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise. */
  serviceName: string;
  serviceVersion: string;
}

export interface OtlpExport {
  /** Exports once more (the final values), then stops. */
  shutdown(): Promise<void>;
}
