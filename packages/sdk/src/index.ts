// The public API of @collector/sdk. Vendor packages import only from here.
export {
  CollectorError,
  InitVariablesError,
  SetupError,
  PullError,
  ConfigError,
  PersistenceError,
  OutputError,
  describeError,
  type CollectorErrorType,
  type CollectorErrorOptions,
} from './errors/collector-error.js';
export {
  defineErrors,
  errorSpecs,
  renderErrorTable,
  spliceErrorTable,
  ERROR_SPECS,
  type ErrorSpec,
  type ErrorCatalog,
  type ErrorThrowOptions,
} from './errors/error-catalog.js';
export { registerSecret, redact, clearSecrets } from './secrets/redactor.js';

export {
  defineCollector,
  defineInput,
  defineService,
  type CollectorDefinition,
  type InputDefinition,
  type ServiceDefinition,
  type InputConfig,
  type InitContext,
  type SetupContext,
  type PullContext,
  type PullBatch,
  type JsonSchema,
} from './runtime/definitions.js';
export { CollectorRuntime, type CollectorOptions, type RunSummary } from './runtime/collector-runtime.js';
export { runCollector, type RunCollectorOptions } from './runtime/run-collector.js';
export { timeWindows, cutoverStart, type TimeWindow, type TimeWindowSpec } from './runtime/time-windows.js';
export { pullWindows, planWindows, type WindowPolicy, type WindowPlan } from './runtime/windowed-pull.js';
export { DedupWindow } from './runtime/dedup-window.js';
export { encodeEvent, extendJsonObject } from './runtime/event-encoding.js';
export { sleep } from './runtime/abortable-sleep.js';
export type { ServiceTotals } from './runtime/pull-statistics.js';

export { loadConfig, resolveConfigPath, configSchema, type CollectorConfig, type GlobalsConfig, type OutputConfig } from './config/load-config.js';
export { parseConfigTime, parseConfigDate, formatUtc } from './config/config-time.js';

export { HttpClient, HttpError, isLoopbackHost, retryAfterHeaderMs, type HttpRequest, type HttpResponse, type HttpClientOptions, type HttpObserver } from './http/http-client.js';
export { RateLimiter, periodMs, type RequestsLimit, type RequestLog } from './http/rate-limiter.js';
export { TokenCache, type Token } from './http/token-cache.js';
export { resolveProxy, proxyFor, describeProxySettings, type ProxyConfig, type ProxySettings } from './http/proxy.js';
export { proxyAgents, type ProxyAgentsOptions } from './http/proxy-agents.js';

export { type StateStore, type JsonObject, type JsonValue, stateKey } from './persistence/state-store.js';
export { FilesystemStateStore, stateFileName } from './persistence/filesystem-store.js';
export { MemoryStateStore } from './persistence/memory-store.js';
export { RedisStateStore } from './persistence/redis-store.js';

export { createLogger, silentLogger, onLogRecord, logSettings, type Logger, type LogRecord, type LogLevel, type LogSettings } from './telemetry/logger.js';

export type { Output, Delivery, DeliveryRecord, SenderService } from './delivery/types.js';
export { DeliveryPipeline, type DeliveryPipelineOptions } from './delivery/delivery-pipeline.js';
export { ConsoleOutput } from './delivery/console-output.js';
export { createOutputs, type OutputFactoryContext } from './delivery/output-factory.js';

// Observability: metrics, health endpoints, lag, --check and --show-state.
export { CollectorMetrics, errorLabels, type ServiceGauges, type ServiceMetrics, type MetricsSources, type ServiceView } from './telemetry/metrics.js';
export { startHealthServer, type HealthServer, type HealthSources, type Readiness } from './telemetry/health-server.js';
export { checkpointTimeOf, conventionalCheckpointTime, formatDuration } from './telemetry/lag.js';
export { runCheck, type CheckOptions, type CheckResult, type CheckReport } from './runtime/check.js';
export { showState } from './runtime/show-state.js';
export { StreamOutput, type StreamOutputOptions, type OutputCounters } from './delivery/stream-output.js';
export { StreamConnection, type ConnectionTarget, type TlsSettings } from './delivery/stream-connection.js';
export { SyslogEncoder, formatSyslogDate, validateTag } from './delivery/syslog-encoder.js';
export { publishLookup, lookupRecords, lookupField, lookupHeaders, type LookupPublication, type LookupRow, type LookupColumnType, type LookupValue } from './delivery/lookup.js';
export { attachInternalLogs, internalLogRecord, type InternalSenderMeta } from './delivery/internal-sender.js';
export { EmergencyStore } from './delivery/emergency-store.js';
export { SenderMonitor, gcLine } from './delivery/sender-monitor.js';
