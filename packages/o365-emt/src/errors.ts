import { InitVariablesError, PullError, SetupError } from '@collector/sdk';

/**
 * The manual's troubleshooting table, plus the IDs this implementation adds (documented in README.md).
 * InitVariablesError IDs follow the manual's numbering: one ID per kind of problem, shared by the settings
 * of that kind (e.g. 2 = "doesn't exist on the configuration file or is empty" for tenant_id and the base
 * URLs). IDs from 21 on are new.
 */
export const InitId = {
  credentialsMissing: 0,
  credentialsNotObject: 1,
  /** tenant_id, base_auth_url, base_resource_url missing or empty. */
  valueMissing: 2,
  /** tenant_id, base_auth_url, base_resource_url not a string (or not an http(s) URL). */
  valueNotString: 3,
  /** client_id, client_secret missing or empty. */
  clientValueMissing: 4,
  clientValueNotString: 5,
  baseUrlMissing: 8,
  baseUrlNotString: 9,
  requestsTimeoutNotFloat: 13,
  resetPersistenceNotString: 18,
  delayNotInt: 19,
  delayOutOfRange: 20,
  cutoffDays: 21,
  marginSeconds: 22,
  pageSize: 23,
  windowSpan: 24,
  lookback: 25,
  cutoffBehindDelay: 26,
  tokenEndpoint: 27,
  detailStatuses: 28,
} as const;

export function initError(id: number, message: string, path: string): InitVariablesError {
  return new InitVariablesError(id, message, { path });
}

export const PERMISSION_REMEDY_RWS =
  'Grant the app the application permission ReportingWebService.Read.All (Office 365 Exchange Online) with admin consent, ' +
  'and assign it a directory role such as Global Reader (or Security Reader / Exchange Administrator); role changes take up to an hour. ' +
  'New tenants no longer have the Reporting Web Service: use office365_exchange_message_graph_service.';
export const PERMISSION_REMEDY_GRAPH =
  'Grant the app the Microsoft Graph application permission ExchangeMessageTrace.Read.All with admin consent, and make sure the ' +
  'Message Trace service principal (appId 8bd644d1-64a1-4d4b-ae52-2e0cbf64e373) exists in the tenant; it can take hours to propagate.';
const AUTH_REMEDY =
  'Check tenant_id, client_id and client_secret (the secret Value, not its ID, and not expired), that the app has the right API ' +
  'permission with admin consent and the role assigned (see README "Vendor setup").';

/** SetupError 100: the token endpoint or the API answered 401 Unauthorized. */
export function authenticationFailed(detail: string, path?: string): SetupError {
  return new SetupError(100, `Authentication failed: ${detail}`, { path, remedy: AUTH_REMEDY });
}

/** SetupError 101: the token endpoint answered another unsuccessful status. */
export function unexpectedTokenStatus(detail: string, path?: string): SetupError {
  return new SetupError(101, `Unexpected status code when fetching Office365ExchangeMessageTrace JWT: ${detail}`, { path, retryable: true, remedy: AUTH_REMEDY });
}

/** SetupError 102: anything else while getting the token (network, a body without access_token). */
export function accessTokenError(detail: string, path?: string): SetupError {
  return new SetupError(102, `Error occurred while accessing the access_token: ${detail}`, { path, retryable: true, remedy: 'Check the network path to the token endpoint (override_base_auth_url) and retry.' });
}

/** SetupError 103 (new): HTTP 403 from the data API, the manual's "No permission to access the report for the organization". */
export function noPermission(api: 'rws' | 'graph', detail: string, path?: string): SetupError {
  const remedy = api === 'rws' ? PERMISSION_REMEDY_RWS : PERMISSION_REMEDY_GRAPH;
  return new SetupError(103, `No permission to access the report for the organization (HTTP 403: ${detail}). ${remedy}`, { path, remedy });
}

/** PullError 300 (new): an unexpected HTTP status from the data API. */
export function unexpectedStatus(status: number, detail: string, path?: string): PullError {
  return new PullError(300, `Unexpected HTTP ${status} from the message trace API: ${detail}`, { path, retryable: true });
}

/** PullError 301 (new): a body that is not the documented JSON. */
export function unreadableBody(detail: string, path?: string): PullError {
  return new PullError(301, `The message trace API answered with an unreadable body: ${detail}`, { path, retryable: true });
}

/** PullError 302 (new): no response after the HTTP client's retries (network, timeout). */
export function requestFailed(detail: string, path?: string): PullError {
  return new PullError(302, `The message trace API could not be reached: ${detail}`, { path, retryable: true });
}

/** PullError 303 (new): still throttled (HTTP 429) after every retry. */
export function stillThrottled(detail: string, path?: string): PullError {
  return new PullError(303, `The message trace API is still throttling after every retry (HTTP 429): ${detail}. The next pull continues from the last savepoint.`, { path, retryable: true });
}

/** PullError 304 (new): HTTP 400, the API rejected the query (time filter, $top). */
export function queryRejected(detail: string, path?: string): PullError {
  return new PullError(304, `The message trace API rejected the query (HTTP 400): ${detail}`, { path, retryable: true });
}

/** Short, single-line description of an error body: Graph / OData / AAD JSON, or an HTML page's title. */
export function describeBody(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('<')) {
    const title = /<title>([^<]*)<\/title>/i.exec(trimmed)?.[1] ?? /<h2>([^<]*)<\/h2>/i.exec(trimmed)?.[1];
    return title ? `HTML page "${title.trim()}"` : 'an HTML page';
  }
  try {
    const body = JSON.parse(trimmed) as Record<string, any>;
    if (body['error'] && typeof body['error'] === 'object') return `${body['error'].code ?? 'error'}: ${body['error'].message ?? ''}`.trim();
    if (typeof body['error'] === 'string') return `${body['error']}: ${String(body['error_description'] ?? '').split(/\r?\n/)[0]}`;
    if (body['odata.error']) return String(body['odata.error'].message?.value ?? JSON.stringify(body['odata.error']));
    if (typeof body['Message'] === 'string') return body['Message'].trim();
  } catch {
    // not JSON: fall through to an excerpt
  }
  return JSON.stringify(trimmed.slice(0, 200));
}
