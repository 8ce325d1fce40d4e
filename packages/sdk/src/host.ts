// `@collector/sdk/host`: what a program that RUNS collectors needs (apps, embedding hosts, tooling, tests):
// the runtime and CLI, config loading, persistence stores, outputs and the delivery pipeline, logging,
// metrics and health, and the aids tests and docs tooling use. Vendor packages never import it; they write
// against `@collector/sdk` (index.ts). The two entry points share no name.
export { ConfigError, PersistenceError, OutputError } from './errors/collector-error.js';
export { errorSpecs, renderErrorTable, spliceErrorTable, ERROR_SPECS } from './errors/error-catalog.js';
export { redact, clearSecrets } from './secrets/redactor.js';

export { CollectorRuntime, type CollectorOptions, type RunSummary } from './runtime/collector-runtime.js';
export { runCollector, type RunCollectorOptions } from './runtime/run-collector.js';
export { timeWindows } from './runtime/time-windows.js';
export { DedupWindow, savedDedupKeys, type SavedDedupKeys } from './runtime/dedup-window.js';
export { encodeEvent } from './runtime/event-encoding.js';
export type { ServiceTotals } from './runtime/pull-statistics.js';
export { runCheck, type CheckOptions, type CheckResult, type CheckReport } from './runtime/check.js';
export { showState } from './runtime/show-state.js';
export { backoffDelay, type BackoffPolicy } from './runtime/backoff.js';

export { loadConfig, resolveConfigPath, configSchema, type CollectorConfig, type GlobalsConfig, type OutputConfig } from './config/load-config.js';
export { configValidatorSource } from './config/config-validator.js';

export { retryAfterHeaderMs, type HttpClientOptions, type HttpObserver } from './http/http-client.js';
export { periodMs, type RequestLog } from './http/rate-limiter.js';
export { resolveProxy, proxyFor, describeProxySettings, type ProxyConfig } from './http/proxy.js';

export { type StateStore, stateKey } from './persistence/state-store.js';
export { FilesystemStateStore, stateFileName } from './persistence/filesystem-store.js';
export { MemoryStateStore } from './persistence/memory-store.js';
export { RedisStateStore } from './persistence/redis-store.js';
export { FileAckJournal, RedisAckJournal, createAckJournal, type AckJournal } from './persistence/ack-journal.js';
export { RedisLease, leaseKeys, readLeaseHolder, type LeaseHolder, type LeaseTerm } from './persistence/redis-lease.js';
export { LeaderElection, highAvailabilityOf, type HighAvailabilityConfig } from './runtime/high-availability.js';

export { createLogger, silentLogger, onLogRecord, logSettings, type LogRecord, type LogLevel, type LogSettings } from './telemetry/logger.js';
export { CollectorMetrics, errorLabels, type ServiceMetrics, type MetricsSources, type ServiceView } from './telemetry/metrics.js';
export { startHealthServer, type HealthServer, type HealthSources, type Readiness } from './telemetry/health-server.js';
export { checkpointTimeOf, conventionalCheckpointTime, formatDuration } from './telemetry/lag.js';

// Custom outputs and the delivery pipeline.
export type { Output, Delivery, DeliveryRecord, SenderService } from './delivery/types.js';
export { DEFAULT_BATCH_MESSAGES, DeliveryPipeline, type DeliveryPipelineOptions } from './delivery/delivery-pipeline.js';
export { ConsoleOutput } from './delivery/console-output.js';
export { createOutputs, type OutputFactoryContext } from './delivery/output-factory.js';
export { StreamOutput, type StreamOutputOptions, type OutputCounters } from './delivery/stream-output.js';
export { StreamConnection, type ConnectionTarget, type TlsSettings } from './delivery/stream-connection.js';
export { SyslogEncoder, formatSyslogDate, validateTag } from './delivery/syslog-encoder.js';
export { publishLookup, lookupRecords, lookupField, lookupHeaders, type LookupPublication, type LookupRow, type LookupColumnType, type LookupValue } from './delivery/lookup.js';
export { attachInternalLogs, internalLogRecord, type InternalSenderMeta } from './delivery/internal-sender.js';
export { EmergencyStore } from './delivery/emergency-store.js';
export { SenderMonitor, gcLine } from './delivery/sender-monitor.js';
