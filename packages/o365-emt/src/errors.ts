import { defineErrors } from '@collector/sdk';

/**
 * The manual's troubleshooting table as data, plus the IDs this implementation adds (marked "not in the
 * manual" in the README table, which is rendered from this declaration by `pnpm docs`). InitVariablesError
 * IDs follow the manual's numbering: one ID per kind of problem, shared by the settings of that kind (e.g.
 * 2 = "doesn't exist on the configuration file or is empty" for tenant_id and the base URLs), so `{key}`
 * names the setting. IDs from 21 on are new. `{path}` is the config path of the input or service.
 */
const PERMISSION_REMEDY_RWS =
  'Grant the app the application permission ReportingWebService.Read.All (Office 365 Exchange Online) with admin consent, ' +
  'and assign it a directory role such as Global Reader (or Security Reader / Exchange Administrator); role changes take up to an hour. ' +
  'New tenants no longer have the Reporting Web Service: use office365_exchange_message_graph_service.';
const PERMISSION_REMEDY_GRAPH =
  'Grant the app the Microsoft Graph application permission ExchangeMessageTrace.Read.All with admin consent, and make sure the ' +
  'Message Trace service principal (appId 8bd644d1-64a1-4d4b-ae52-2e0cbf64e373) exists in the tenant; it can take hours to propagate.';
const URL_KEYS = '`tenant_id`, `override_base_auth_url` or `override_base_resource_url`';
const FIX_VALUE = 'Set the value the Configuration reference gives, or remove the optional setting to use its default.';
const PULL_RETRY = 'the next pull retries from the last savepoint; nothing is lost';

export const o365Errors = defineErrors({
  credentialsMissing: {
    type: 'InitVariablesError', id: 0,
    message: 'credentials section does not exist on the configuration file or is empty',
    path: '{path}',
    cause: 'no `credentials`, or an empty one',
    remedy: 'Add `credentials` with `tenant_id`, `client_id` and `client_secret`.',
  },
  credentialsNotObject: {
    type: 'InitVariablesError', id: 1,
    message: 'credentials section is not a valid <dict> object',
    path: '{path}',
    cause: '`credentials` is not a mapping',
    remedy: 'Make `credentials` a mapping of `tenant_id`, `client_id` and `client_secret`.',
  },
  valueMissing: {
    type: 'InitVariablesError', id: 2,
    message: "{key} doesn't exist on the configuration file or is empty",
    path: '{path}',
    cause: `${URL_KEYS} missing or empty`,
    remedy: 'Set a value (for the URLs: remove the key to use the default).',
  },
  valueNotString: {
    type: 'InitVariablesError', id: 3,
    message: '{key} must be an string',
    path: '{path}',
    cause: `${URL_KEYS} is not a string (an all-digit value must be quoted)`,
    remedy: 'Quote the value.',
  },
  valueNotUrl: {
    type: 'InitVariablesError', id: 3, sameIdAs: 'valueNotString',
    message: '{key} must be a valid URL including https:// (got {value})',
    path: '{path}',
    cause: '`override_base_auth_url` or `override_base_resource_url` is not a URL',
    remedy: 'Write the whole URL, e.g. `https://login.microsoftonline.com`.',
  },
  valueNotHttp: {
    type: 'InitVariablesError', id: 3, sameIdAs: 'valueNotString',
    message: '{key} must be an https:// URL',
    path: '{path}',
    cause: '`override_base_auth_url` or `override_base_resource_url` is a URL of another scheme',
    remedy: 'Use an https:// URL.',
  },
  clientValueMissing: {
    type: 'InitVariablesError', id: 4,
    message: "{key} doesn't exist on the configuration file or is empty",
    path: '{path}',
    cause: '`client_id` or `client_secret` missing or empty',
    remedy: 'Set it from the app registration (for the secret: its Value, not its ID).',
  },
  clientValueNotString: {
    type: 'InitVariablesError', id: 5,
    message: '{key} must be an string',
    path: '{path}',
    cause: '`client_id` or `client_secret` is not a string',
    remedy: 'Quote the value.',
  },
  baseUrlMissing: {
    type: 'InitVariablesError', id: 8,
    message: "{key} doesn't exist on the configuration file or is empty",
    path: '{path}',
    cause: '`override_base_url` is empty',
    remedy: 'Remove the key or set a URL.',
  },
  baseUrlNotString: {
    type: 'InitVariablesError', id: 9,
    message: '{key} must be an string',
    path: '{path}',
    cause: '`override_base_url` is not a string',
    remedy: 'Quote the URL, or remove the key.',
  },
  baseUrlNotUrl: {
    type: 'InitVariablesError', id: 9, sameIdAs: 'baseUrlNotString',
    message: '{key} must be a valid URL including https:// (got {value})',
    path: '{path}',
    cause: '`override_base_url` is not a URL',
    remedy: 'Write the whole URL, e.g. `https://graph.microsoft.com`, or remove the key.',
  },
  baseUrlNotHttp: {
    type: 'InitVariablesError', id: 9, sameIdAs: 'baseUrlNotString',
    message: '{key} must be an https:// URL',
    path: '{path}',
    cause: '`override_base_url` is a URL of another scheme',
    remedy: 'Use an https:// URL, or remove the key.',
  },
  requestsTimeoutNotFloat: {
    type: 'InitVariablesError', id: 13,
    message: 'requests_timeout_in_seconds is not a float instance (minimum 1)',
    path: '{path}',
    cause: 'not a number, or less than 1',
    remedy: 'A number of seconds, 1 or more.',
  },
  resetPersistenceNotString: {
    type: 'InitVariablesError', id: 18,
    message: 'Optional setting: <reset_persistence_auth> not of expected type: str',
    path: '{path}',
    cause: '`reset_persistence_auth` is not a string',
    remedy: 'A date, e.g. `"2026-04-01"`.',
  },
  resetPersistenceNotDate: {
    type: 'InitVariablesError', id: 18, sameIdAs: 'resetPersistenceNotString',
    message: 'Optional setting: <reset_persistence_auth> must be a date as YYYY-MM-DD (got {value})',
    path: '{path}',
    cause: '`reset_persistence_auth` is not a date',
    remedy: 'A date, e.g. `"2026-04-01"`.',
  },
  delayNotInt: {
    type: 'InitVariablesError', id: 19,
    message: 'Optional setting: <override_time_delay_in_seconds> not of expected type: int',
    path: '{path}',
    cause: 'not an integer',
    remedy: 'An integer number of seconds.',
  },
  delayOutOfRange: {
    type: 'InitVariablesError', id: 20,
    message: 'Optional setting: <override_time_delay_in_seconds> is out of range (1 to {max})',
    path: '{path}',
    cause: 'outside 1 to 172 800 (the manual\'s table says 90000 in one place; its parameter table and this collector allow 172 800)',
    remedy: 'An integer in range.',
  },
  cutoffDays: {
    type: 'InitVariablesError', id: 21,
    message: 'Optional setting: <max_historic_date_cutoff_days_back> must be an integer from 1 to 1000000',
    path: '{path}',
    cause: 'not an integer, or out of range (not in the manual)',
    remedy: FIX_VALUE,
  },
  marginSeconds: {
    type: 'InitVariablesError', id: 22,
    message: 'Optional setting: <max_historic_date_margin_seconds> must be an integer from 1 to 86400000000',
    path: '{path}',
    cause: 'not an integer, or out of range (not in the manual)',
    remedy: FIX_VALUE,
  },
  pageSize: {
    type: 'InitVariablesError', id: 23,
    message: 'Optional setting: <page_size> must be an integer from 1 to {max}',
    path: '{path}',
    cause: 'not an integer, or out of range: `{max}` is 2000 (RWS) or 5000 (Graph) (not in the manual)',
    remedy: FIX_VALUE,
  },
  windowSpan: {
    type: 'InitVariablesError', id: 24,
    message: 'Optional setting: <max_window_in_seconds> must be an integer from 60 to {max} (Graph answers at most 10 days a query)',
    path: '{path}',
    cause: 'not an integer, or outside 60 to 864000 (not in the manual)',
    remedy: FIX_VALUE,
  },
  lookback: {
    type: 'InitVariablesError', id: 25,
    message: 'Optional setting: <lookback_in_seconds> must be an integer from 0 to {max}',
    path: '{path}',
    cause: 'not an integer, or outside 0 to 172800 (not in the manual)',
    remedy: FIX_VALUE,
  },
  cutoffBehindDelay: {
    type: 'InitVariablesError', id: 26,
    message:
      'max_historic_date_cutoff_days_back ({cutoff} d) minus max_historic_date_margin_seconds ({margin} s) must reach further back than override_time_delay_in_seconds ({delay} s), or no window could ever be pulled',
    path: '{path}',
    cause: 'the oldest allowed start is after the newest allowed end: nothing could ever be pulled (not in the manual)',
    remedy: 'Raise the cutoff or lower the delay.',
  },
  tokenEndpoint: {
    type: 'InitVariablesError', id: 27,
    message: 'Optional setting: <token_endpoint> must be v1 (resource, as the manual) or v2 (scope)',
    path: '{path}',
    cause: 'another value (not in the manual)',
    remedy: '`v1` or `v2`, or remove the key.',
  },
  detailStatuses: {
    type: 'InitVariablesError', id: 28,
    message: 'Optional setting: <detail_statuses> must be a non-empty list of message trace statuses ({statuses}), got {value}',
    path: '{path}',
    cause: "a value Graph's `status` never has, or not a list (not in the manual)",
    remedy: 'E.g. `[failed, quarantined]`, or remove the key for every row.',
  },
  authenticationFailed: {
    type: 'SetupError', id: 100,
    message: 'Authentication failed: {error}',
    cause:
      'a 401: from the token endpoint (wrong or expired secret: `invalid_client AADSTS7000215/7000222`), or from the API even after a fresh token. The **RWS answers 401 with an HTML page** ("401 - Unauthorized: Access is denied due to invalid credentials."); Graph answers 401 until its Message Trace service principal has propagated.',
    remedy:
      'Check tenant_id, client_id and client_secret (the secret Value, not its ID, and not expired), that the app has the right API ' +
      'permission with admin consent and the role assigned (see README "Vendor setup").',
  },
  unexpectedTokenStatus: {
    type: 'SetupError', id: 101,
    message: 'Unexpected status code when fetching Office365ExchangeMessageTrace JWT: {error}',
    cause: 'another status from the token endpoint; the AADSTS code in the message says why',
    remedy: 'Read the AADSTS code in the message: unknown tenant (90002: fix tenant_id), unknown app (700016: fix client_id), resource not in the tenant (500011: fix override_base_resource_url).',
    retryable: true,
  },
  accessTokenError: {
    type: 'SetupError', id: 102,
    message: 'Error occurred while accessing the access_token: {error}',
    cause: 'the token endpoint could not be reached, or its answer had no `access_token`',
    remedy: 'Check the network path to the token endpoint (override_base_auth_url) and retry.',
    retryable: true,
  },
  noPermissionRws: {
    type: 'SetupError', id: 103,
    message: `No permission to access the report for the organization (HTTP 403: {error}). ${PERMISSION_REMEDY_RWS}`,
    cause: 'RWS: the app has the permission but no role (the manual\'s "No permission to access the report for the organization.") (not in the manual\'s table)',
    remedy: PERMISSION_REMEDY_RWS,
  },
  noPermissionGraph: {
    type: 'SetupError', id: 103, sameIdAs: 'noPermissionRws',
    message: `No permission to access the report for the organization (HTTP 403: {error}). ${PERMISSION_REMEDY_GRAPH}`,
    cause: 'Graph: `ExchangeMessageTrace.Read.All` is missing (not in the manual)',
    remedy: PERMISSION_REMEDY_GRAPH,
  },
  unexpectedStatus: {
    type: 'PullError', id: 300,
    message: 'Unexpected HTTP {status} from the message trace API: {error}',
    cause: `any other status after the HTTP client's retries (5xx are retried 5 times with back-off); ${PULL_RETRY} (not in the manual)`,
    remedy: 'Read the status and the answer in the message; if Microsoft is failing, wait for it to recover.',
    retryable: true,
  },
  unreadableBody: {
    type: 'PullError', id: 301,
    message: 'The message trace API answered with an unreadable body: {error}',
    cause: `not JSON, no \`value\`/\`d.results\`, a page repeated (the server ignores \`$skiptoken\`); ${PULL_RETRY} (not in the manual)`,
    remedy: 'Check `override_base_url` points at the message trace API (not a proxy page); if it persists, contact the developer with the exact error message.',
    retryable: true,
  },
  requestFailed: {
    type: 'PullError', id: 302,
    message: 'The message trace API could not be reached: {error}',
    cause: `network failure or timeout after retries (\`requests_timeout_in_seconds\`); ${PULL_RETRY} (not in the manual)`,
    remedy: 'Check the network path to the API (`override_base_url`, proxies); raise `requests_timeout_in_seconds` if answers are slow.',
    retryable: true,
  },
  stillThrottled: {
    type: 'PullError', id: 303,
    message: 'The message trace API is still throttling after every retry (HTTP 429): {error}. The next pull continues from the last savepoint.',
    cause: 'the tenant budget is used by other tools too (not in the manual)',
    remedy: 'Lower `requests_limits`, or spread the other tools that read message traces.',
    retryable: true,
  },
  queryRejected: {
    type: 'PullError', id: 304,
    message: 'The message trace API rejected the query (HTTP 400): {error}',
    cause: `a time filter the API refuses (e.g. older than it keeps); ${PULL_RETRY} (not in the manual)`,
    remedy: 'Read the answer in the message; when the start is older than the API keeps, lower `max_historic_date_cutoff_days_back`.',
    retryable: true,
  },
});

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
