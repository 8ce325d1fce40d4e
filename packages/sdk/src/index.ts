// `@collector/sdk`: what a vendor package writes against (the contract, its errors, HTTP, windows, time
// parsing). Vendor packages import only from here; `@collector/sdk/host` (host.ts) holds what runs
// collectors. The README lists every name of both entry points.
export {
  CollectorError,
  InitVariablesError,
  SetupError,
  PullError,
  describeError,
  type CollectorErrorType,
  type CollectorErrorOptions,
} from './errors/collector-error.js';
export { defineErrors, type ErrorSpec, type ErrorCatalog, type ErrorThrowOptions } from './errors/error-catalog.js';
export { registerSecret } from './secrets/redactor.js';

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
  type PullCounts,
  type JsonSchema,
} from './runtime/definitions.js';
export { cutoverStart, type TimeWindow, type TimeWindowSpec } from './runtime/time-windows.js';
export { pullWindows, planWindows, historicFloorAt, handOver, type WindowPolicy, type WindowPlan, type WindowClamp, type WindowLines, type WindowEnd, type WindowContext } from './runtime/windowed-pull.js';
export { extendJsonObject } from './runtime/event-encoding.js';
export { collectYoungGeneration, LARGE_PAGE_CHARS } from './runtime/exposed-gc.js';
export { EncodedBatch } from './delivery/encoded-batch.js';
export { canonicalJson } from './runtime/canonical-json.js';
export { JsonSyntaxError, scanJsonArray, compactJson, type JsonArrayScan } from './json/json-array-scan.js';
export { JsonRecord, recordField } from './json/json-record.js';
export { jsonRecords, type JsonRecords } from './json/json-records.js';
export { sleep } from './runtime/abortable-sleep.js';
export { parseConfigTime, parseConfigDate, formatUtc } from './config/config-time.js';
export { requiredStrings, windowOptions, type WindowOptionsSpec } from './config/schema-fragments.js';

export { HttpClient, HttpError, isLoopbackHost, releaseText, type HttpRequest, type HttpResponse } from './http/http-client.js';
export { RateLimiter, type RequestsLimit } from './http/rate-limiter.js';
export type { RequestBudget } from './http/http-types.js';
export { TokenCache, type Token } from './http/token-cache.js';
export { authorizedRequest, requestOrFail, type AuthorizedRequest, type TokenSource } from './http/authorized-request.js';
export { baseUrlOr, parseBaseUrl, trimTrailingSlashes, type BaseUrlProblem, type BaseUrlResult, type BaseUrlRules } from './http/base-url.js';
export { proxyAgents, type ProxyAgentsOptions } from './http/proxy-agents.js';
export type { ProxySettings } from './http/proxy.js';

export type { JsonObject, JsonValue } from './persistence/state-store.js';
export type { Logger } from './telemetry/logger.js';
export type { ServiceGauges } from './telemetry/metrics.js';
