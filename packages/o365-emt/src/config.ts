import { parseBaseUrl, parseConfigDate, trimTrailingSlashes, type InputConfig, type JsonSchema } from '@collector/sdk';
import { o365Errors as E } from './errors.js';

/**
 * Config schema fragments and the validation behind the manual's InitVariablesError IDs. The schemas are
 * deliberately loose (no types or ranges) so that a wrong value reaches `init` and gets the documented ID
 * and message instead of a generic schema error; defaults are still applied by the SDK.
 */
export const INPUT_NAME = 'office365_exchange_message';
export const RWS_SERVICE = 'office365_exchange_message_service';
export const GRAPH_SERVICE = 'office365_exchange_message_graph_service';
export const GRAPH_DETAIL_SERVICE = 'office365_exchange_message_graph_detail_service';

export const DEFAULT_AUTH_URL = 'https://login.microsoftonline.com';
export const DEFAULT_RWS_URL = 'https://reports.office365.com/ecp/reportingwebservice/reporting.svc';
export const DEFAULT_RWS_RESOURCE = 'https://outlook.office365.com';
export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
export const DEFAULT_GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const DEFAULT_DELAY_SECONDS = 90_000;
export const MAX_DELAY_SECONDS = 172_800;
export const GRAPH_MAX_WINDOW_SECONDS = 10 * 86_400;
export const GRAPH_MAX_DAYS_BACK = 90;

export const credentialsSchema: JsonSchema = {
  description: 'Entra app registration: tenant_id, client_id, client_secret (all three obfuscated in logs)',
  properties: { tenant_id: {}, client_id: {}, client_secret: {} },
};

export const inputOptionsSchema: JsonSchema = {
  properties: {
    max_historic_date_cutoff_days_back: { default: 10 },
    max_historic_date_margin_seconds: { default: 60 },
  },
};

const sharedServiceProperties: Record<string, JsonSchema> = {
  requests_timeout_in_seconds: { default: 60 },
  reset_persistence_auth: {},
  override_time_delay_in_seconds: { default: DEFAULT_DELAY_SECONDS },
  override_base_url: {},
  override_base_auth_url: {},
  override_base_resource_url: {},
  lookback_in_seconds: { default: 0 },
};

export const rwsOptionsSchema: JsonSchema = {
  properties: { ...sharedServiceProperties, page_size: { default: 1000 }, token_endpoint: { default: 'v1' } },
};

export const graphOptionsSchema: JsonSchema = {
  properties: { ...sharedServiceProperties, page_size: { default: 5000 }, max_window_in_seconds: { default: GRAPH_MAX_WINDOW_SECONDS } },
};

/**
 * The detail service: Graph's keys, with one-hour windows by default. A window is its unit of progress and
 * costs one request per trace row in it, so a crash inside a 10-day window would spend the budget again.
 */
export const DETAIL_DEFAULT_WINDOW_SECONDS = 3600;
export const graphDetailOptionsSchema: JsonSchema = {
  properties: { ...sharedServiceProperties, page_size: { default: 5000 }, max_window_in_seconds: { default: DETAIL_DEFAULT_WINDOW_SECONDS }, detail_statuses: {} },
};

/** Graph's `status` values (exchangeMessageTrace); `recalled` is sent because the collector asks for it. */
export const GRAPH_STATUSES = ['gettingStatus', 'pending', 'failed', 'delivered', 'expanded', 'quarantined', 'filteredAsSpam', 'recalled', 'unknownFutureValue'] as const;

/**
 * InitVariablesError 28: `detail_statuses`, the trace statuses whose rows get their details asked for
 * (each costs a request); absent means every row. Returns lower-cased values, or undefined for all.
 */
export function parseDetailStatuses(options: Record<string, unknown>, path: string): Set<string> | undefined {
  const value = options['detail_statuses'];
  if (value === undefined || value === null) return undefined;
  const known = new Map(GRAPH_STATUSES.map((s) => [s.toLowerCase(), s]));
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && known.has(v.trim().toLowerCase()))) {
    throw E.detailStatuses({ statuses: GRAPH_STATUSES.join(', '), value: JSON.stringify(value), path: `${path}.detail_statuses` });
  }
  return new Set(value.map((v: string) => v.trim().toLowerCase()));
}

export interface Credentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

export interface HistoricLimits {
  cutoffDays: number;
  marginSeconds: number;
}

export interface ServiceOptions {
  timeoutMs: number;
  resetPersistenceAuth: string | undefined;
  delaySeconds: number;
  lookbackSeconds: number;
  pageSize: number;
  /** The data API root (RWS: `.../reporting.svc`; Graph: the `messageTraces` collection URL). */
  baseUrl: string;
  authUrl: string;
  /** RWS `resource` (v1) or the scope prefix (`<resource>/.default`, v2). */
  resource: string;
  tokenEndpoint: 'v1' | 'v2';
  /** Graph only: the longest window one query asks for. */
  maxWindowSeconds: number;
}

function intValue(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

function floatValue(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

const isEmpty = (value: unknown) => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/** InitVariablesError 0-5: the credentials block (checked at --validate time, before any request). */
export function parseCredentials(input: InputConfig): Credentials {
  const path = `inputs.${INPUT_NAME}.credentials`;
  const raw = input.credentials as unknown;
  if (raw === undefined || raw === null || (typeof raw === 'object' && !Array.isArray(raw) && Object.keys(raw).length === 0)) {
    throw E.credentialsMissing({ path });
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw E.credentialsNotObject({ path });
  const c = raw as Record<string, unknown>;
  const text = (key: string, missing: typeof E.valueMissing, notString: typeof E.valueNotString): string => {
    const value = c[key];
    if (isEmpty(value)) throw missing({ key, path: `${path}.${key}` });
    // No coercion: an all-digit value that YAML read as a number must be quoted (a number here is more
    // often a paste error than a real Entra ID, and it would otherwise be masked only by luck).
    if (typeof value !== 'string') throw notString({ key, path: `${path}.${key}` });
    return value.trim();
  };
  return {
    tenantId: text('tenant_id', E.valueMissing, E.valueNotString),
    clientId: text('client_id', E.clientValueMissing, E.clientValueNotString),
    clientSecret: text('client_secret', E.clientValueMissing, E.clientValueNotString),
  };
}

/** InitVariablesError 21/22: the input's historic limits. */
export function parseHistoricLimits(input: InputConfig): HistoricLimits {
  const path = `inputs.${INPUT_NAME}`;
  const cutoff = intValue(input['max_historic_date_cutoff_days_back'] ?? 10);
  if (cutoff === undefined || cutoff < 1 || cutoff > 1_000_000) {
    throw E.cutoffDays({ path: `${path}.max_historic_date_cutoff_days_back` });
  }
  const margin = intValue(input['max_historic_date_margin_seconds'] ?? 60);
  if (margin === undefined || margin < 1 || margin > 86_400_000_000) {
    throw E.marginSeconds({ path: `${path}.max_historic_date_margin_seconds` });
  }
  return { cutoffDays: cutoff, marginSeconds: margin };
}

/** The errors of one kind of URL setting (IDs 2/3 for the auth and resource URLs, 8/9 for override_base_url). */
interface UrlErrors {
  missing: typeof E.valueMissing;
  notString: typeof E.valueNotString;
  notUrl: typeof E.valueNotUrl;
  notHttp: typeof E.valueNotHttp;
}
const URL_ERRORS: UrlErrors = { missing: E.valueMissing, notString: E.valueNotString, notUrl: E.valueNotUrl, notHttp: E.valueNotHttp };
const BASE_URL_ERRORS: UrlErrors = { missing: E.baseUrlMissing, notString: E.baseUrlNotString, notUrl: E.baseUrlNotUrl, notHttp: E.baseUrlNotHttp };

function parseUrl(value: unknown, fallback: string, key: string, path: string, errors: UrlErrors): string {
  if (value === undefined || value === null) return fallback;
  const parsed = parseBaseUrl(value);
  if (parsed.ok) return parsed.url;
  if (parsed.problem === 'not-string') throw errors.notString({ key, path: `${path}.${key}` });
  if (parsed.problem === 'empty') throw errors.missing({ key, path: `${path}.${key}` });
  if (parsed.problem === 'malformed') throw errors.notUrl({ key, value: JSON.stringify(value), path: `${path}.${key}` });
  throw errors.notHttp({ key, path: `${path}.${key}` });
}

/** Where the RWS lives: an override may be a host (`https://reports.office365.us`), the svc root or the MessageTrace URL. */
export function rwsServiceRoot(base: string): string {
  const url = new URL(base);
  const path = trimTrailingSlashes(url.pathname);
  if (path === '') return `${url.origin}/ecp/reportingwebservice/reporting.svc`;
  if (/\/messagetrace$/i.test(path)) return `${url.origin}${path.replace(/\/messagetrace$/i, '')}`;
  return `${url.origin}${path}`;
}

/** Where Graph message traces live: a host, a versioned root (`.../beta`) or the collection URL itself. */
export function graphCollectionUrl(base: string): string {
  const url = new URL(base);
  const path = trimTrailingSlashes(url.pathname);
  if (/\/messagetraces$/i.test(path)) return `${url.origin}${path}`;
  if (path === '') return `${url.origin}/v1.0/admin/exchange/tracing/messageTraces`;
  return `${url.origin}${path}/admin/exchange/tracing/messageTraces`;
}

/** InitVariablesError 2/3/8/9/13/18-20/23-27: one service's options. */
export function parseServiceOptions(kind: 'rws' | 'graph', options: Record<string, unknown>, path: string): ServiceOptions {
  const timeout = floatValue(options['requests_timeout_in_seconds'] ?? 60);
  if (timeout === undefined || timeout < 1) throw E.requestsTimeoutNotFloat({ path: `${path}.requests_timeout_in_seconds` });

  const reset = options['reset_persistence_auth'];
  let resetPersistenceAuth: string | undefined;
  if (reset !== undefined && reset !== null) {
    // YAML turns an unquoted 2024-01-31 into a date: accept it as the day it names.
    const text = reset instanceof Date ? reset.toISOString().slice(0, 10) : reset;
    if (typeof text !== 'string') throw E.resetPersistenceNotString({ path: `${path}.reset_persistence_auth` });
    if (!parseConfigDate(text)) throw E.resetPersistenceNotDate({ value: JSON.stringify(text), path: `${path}.reset_persistence_auth` });
    resetPersistenceAuth = text.trim();
  }

  const rawDelay = options['override_time_delay_in_seconds'] ?? DEFAULT_DELAY_SECONDS;
  const delay = intValue(rawDelay);
  if (delay === undefined) throw E.delayNotInt({ path: `${path}.override_time_delay_in_seconds` });
  if (delay < 1 || delay > MAX_DELAY_SECONDS) throw E.delayOutOfRange({ max: MAX_DELAY_SECONDS, path: `${path}.override_time_delay_in_seconds` });

  const lookback = intValue(options['lookback_in_seconds'] ?? 0);
  if (lookback === undefined || lookback < 0 || lookback > MAX_DELAY_SECONDS) throw E.lookback({ max: MAX_DELAY_SECONDS, path: `${path}.lookback_in_seconds` });

  const maxPage = kind === 'rws' ? 2000 : 5000;
  const pageSize = intValue(options['page_size'] ?? (kind === 'rws' ? 1000 : 5000));
  if (pageSize === undefined || pageSize < 1 || pageSize > maxPage) throw E.pageSize({ max: maxPage, path: `${path}.page_size` });

  let maxWindowSeconds = GRAPH_MAX_WINDOW_SECONDS;
  if (kind === 'graph') {
    const span = intValue(options['max_window_in_seconds'] ?? GRAPH_MAX_WINDOW_SECONDS);
    if (span === undefined || span < 60 || span > GRAPH_MAX_WINDOW_SECONDS) throw E.windowSpan({ max: GRAPH_MAX_WINDOW_SECONDS, path: `${path}.max_window_in_seconds` });
    maxWindowSeconds = span;
  }

  let tokenEndpoint: 'v1' | 'v2' = kind === 'graph' ? 'v2' : 'v1';
  if (kind === 'rws' && options['token_endpoint'] !== undefined) {
    const value = options['token_endpoint'];
    if (value !== 'v1' && value !== 'v2') throw E.tokenEndpoint({ path: `${path}.token_endpoint` });
    tokenEndpoint = value;
  }

  const baseUrl = parseUrl(options['override_base_url'], kind === 'rws' ? DEFAULT_RWS_URL : DEFAULT_GRAPH_URL, 'override_base_url', path, BASE_URL_ERRORS);
  return {
    timeoutMs: Math.round(timeout * 1000),
    resetPersistenceAuth,
    delaySeconds: delay,
    lookbackSeconds: lookback,
    pageSize,
    baseUrl: kind === 'rws' ? rwsServiceRoot(baseUrl) : graphCollectionUrl(baseUrl),
    authUrl: parseUrl(options['override_base_auth_url'], DEFAULT_AUTH_URL, 'override_base_auth_url', path, URL_ERRORS),
    resource: parseUrl(options['override_base_resource_url'], kind === 'rws' ? DEFAULT_RWS_RESOURCE : DEFAULT_GRAPH_RESOURCE, 'override_base_resource_url', path, URL_ERRORS),
    tokenEndpoint,
    maxWindowSeconds,
  };
}

/**
 * InitVariablesError 26: the first window must be able to start before it ends. The historic floor is
 * now − cutoff + margin; windows end at now − delay; with cutoff·86400 − margin ≤ delay nothing is ever pulled.
 */
export function checkCutoffAgainstDelay(limits: HistoricLimits, options: ServiceOptions, maxDaysBack: number, path: string): void {
  const reach = Math.min(limits.cutoffDays, maxDaysBack) * 86_400 - limits.marginSeconds;
  if (reach <= options.delaySeconds) {
    throw E.cutoffBehindDelay({ cutoff: limits.cutoffDays, margin: limits.marginSeconds, delay: options.delaySeconds, path: `inputs.${INPUT_NAME}.max_historic_date_cutoff_days_back` });
  }
}

/**
 * What every message-trace service's `init` checks (all at --validate time): the credentials, the input's
 * historic limits, the service's own options, and that the cutoff reaches behind the delay.
 */
export function checkServiceConfig(ctx: { input: InputConfig; options: Record<string, unknown>; path: string }, kind: 'rws' | 'graph', maxDaysBack: number): { limits: HistoricLimits; options: ServiceOptions } {
  parseCredentials(ctx.input);
  const limits = parseHistoricLimits(ctx.input);
  const options = parseServiceOptions(kind, ctx.options, ctx.path);
  checkCutoffAgainstDelay(limits, options, maxDaysBack, ctx.path);
  return { limits, options };
}
