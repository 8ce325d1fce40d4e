import { defineErrors } from '@collector/sdk';

/**
 * The Darktrace manual's troubleshooting tables as data. IDs and messages follow the manual where it has
 * them (InitVariablesError 22-35, SetupError 100-103, PullError 300-301); the rest are ours and marked
 * "not in the manual" in the README table, which is rendered from this declaration (`pnpm docs`).
 * `{path}` is the service's config path (`inputs.darktrace.services.<name>`).
 */
const CREDENTIALS = 'inputs.darktrace.credentials';
const QUOTE = 'Quote the value in config.yaml.';
const DEVELOPER = 'If it persists, contact the developer with the exact error message.';
const credentialErrors = (key: string, missingId: number) =>
  ({
    missing: {
      type: 'InitVariablesError', id: missingId,
      message: `${CREDENTIALS}.${key} mandatory property is missing or empty`,
      path: `${CREDENTIALS}.${key}`,
      cause: `no \`credentials.${key}\`, or an empty one`,
      remedy: `Set \`credentials.${key}\`.`,
    },
    notString: {
      type: 'InitVariablesError', id: missingId + 1,
      message: `${CREDENTIALS}.${key} property must be a string`,
      path: `${CREDENTIALS}.${key}`,
      cause: `\`credentials.${key}\` is a number, list or mapping`,
      remedy: QUOTE,
    },
  }) as const;
const publicToken = credentialErrors('public_token', 24);
const privateToken = credentialErrors('private_token', 26);
const instance = credentialErrors('instance', 28);

export const darktraceErrors = defineErrors({
  credentialsMissing: {
    type: 'InitVariablesError', id: 22,
    message: `${CREDENTIALS} mandatory property is missing or empty`,
    path: CREDENTIALS,
    cause: 'no `credentials` block, or an empty one',
    remedy: 'Add `credentials` with `public_token`, `private_token` and `instance`.',
  },
  credentialsNotDict: {
    type: 'InitVariablesError', id: 23,
    message: `${CREDENTIALS} property must be a dictionary`,
    path: CREDENTIALS,
    cause: '`credentials` is not a mapping',
    remedy: 'Make `credentials` a mapping of `public_token`, `private_token` and `instance`.',
  },
  publicTokenMissing: publicToken.missing,
  publicTokenNotString: publicToken.notString,
  privateTokenMissing: privateToken.missing,
  privateTokenNotString: privateToken.notString,
  instanceMissing: instance.missing,
  instanceNotString: instance.notString,
  startTimeNotString: {
    type: 'InitVariablesError', id: 33,
    message: '{path}.start_time_in_utc_format property must be a string',
    path: '{path}.start_time_in_utc_format',
    cause: 'the start time is not a string',
    remedy: 'Quote the date, e.g. `"2024-05-14T00:00:00Z"`.',
  },
  startTimeBadFormat: {
    type: 'InitVariablesError', id: 34,
    message: '{path}.start_time_in_utc_format does not match the format YYYY-MM-DDTHH:MM:SS (UTC, e.g. 2024-05-14T00:00:00Z)',
    path: '{path}.start_time_in_utc_format',
    cause: 'a malformed date',
    remedy: 'Write the date as `2024-05-14T00:00:00Z` (UTC).',
  },
  startTimeInFuture: {
    type: 'InitVariablesError', id: 34, sameIdAs: 'startTimeBadFormat',
    message: '{path}.start_time_in_utc_format {value} is in the future',
    path: '{path}.start_time_in_utc_format',
    cause: 'the start time is after now',
    remedy: 'Use a start time in the past (UTC), e.g. `2024-05-14T00:00:00Z`.',
  },
  windowNotInteger: {
    type: 'InitVariablesError', id: 35,
    message: '{path}.override_time_window_interval_in_minutes property must be an int',
    path: '{path}.override_time_window_interval_in_minutes',
    cause: 'the window is not an integer',
    remedy: 'An integer number of minutes.',
  },
  instanceMalformed: {
    type: 'InitVariablesError', id: 36,
    message: `${CREDENTIALS}.instance "{value}" is not a host name with an optional port (e.g. example.cloud.darktrace.com or 10.0.0.5:8443) nor an http(s) URL`,
    path: `${CREDENTIALS}.instance`,
    cause: 'a path, spaces or a bad port in `instance` (not in the manual)',
    remedy: 'The bare host (`host` or `host:port`) or `https://host[:port]`.',
  },
  windowTooSmall: {
    type: 'InitVariablesError', id: 37,
    message: '{path}.override_time_window_interval_in_minutes must be at least 1',
    path: '{path}.override_time_window_interval_in_minutes',
    cause: 'a window of 0 or fewer minutes (not in the manual)',
    remedy: '1 or more.',
  },
  lookbackInvalid: {
    type: 'InitVariablesError', id: 38,
    message: '{path}.lookback_in_minutes must be an integer from 0 to 10080 (7 days)',
    path: '{path}.lookback_in_minutes',
    cause: 'not an integer, or out of range (not in the manual)',
    remedy: 'An integer from 0 to 10080.',
  },
  delayInvalid: {
    type: 'InitVariablesError', id: 39,
    message: '{path}.override_time_delay_in_seconds must be an integer from 0 to 86400',
    path: '{path}.override_time_delay_in_seconds',
    cause: 'not an integer, or out of range (not in the manual)',
    remedy: 'An integer from 0 to 86400.',
  },
  flagNotBoolean: {
    type: 'InitVariablesError', id: 40,
    message: '{path}.{key} property must be a boolean (true or false)',
    path: '{path}.{key}',
    cause: 'a query switch such as `includebreachurl` is not a boolean (not in the manual)',
    remedy: '`true` or `false`, unquoted.',
  },
  baseUrlInvalid: {
    type: 'InitVariablesError', id: 41,
    message: '{path}.override_base_url must be an http(s) URL without a path, or a host with an optional port',
    path: '{path}.override_base_url',
    cause: 'a malformed `override_base_url` (not in the manual)',
    remedy: 'E.g. `https://dt-proxy.example.com:8443`, or remove the key.',
  },
  timeoutInvalid: {
    type: 'InitVariablesError', id: 42,
    message: '{path}.request_timeout_in_seconds must be an integer from 1 to 3600',
    path: '{path}.request_timeout_in_seconds',
    cause: 'not an integer, or out of range (not in the manual)',
    remedy: 'An integer from 1 to 3600.',
  },
  aliasWithCurrent: {
    type: 'InitVariablesError', id: 43,
    message: '{path}: <{alias}> is the old name of <{current}>, which is configured too; keep only <{current}>',
    path: '{path}',
    cause: 'both `aianalyst` and `aianalyst_incidentevents` configured: every incident event would be sent twice (not in the manual)',
    remedy: 'Remove `aianalyst`.',
  },
  requestFailed: {
    type: 'SetupError', id: 100,
    message: 'Error occurred while requesting from the Darktrace server. Error message: {error}',
    cause: 'the instance is unreachable (DNS, TCP, TLS, timeout) after retries',
    remedy: 'Check that the instance host (and port) is right and reachable from this machine over HTTPS.',
    retryable: true,
  },
  wrongTokens: {
    type: 'SetupError', id: 101,
    message: 'The tokens provided are incorrect. Please specify the correct credentials. Error message {error}',
    path: CREDENTIALS,
    cause: 'HTTP 400 `API SIGNATURE ERROR` (or 401): wrong public/private token; the same ID during a pull',
    remedy: 'Check credentials.public_token and credentials.private_token: copy both again from the Threat Visualizer (System Config > Settings > API Token).',
  },
  noPermission: {
    type: 'SetupError', id: 102,
    message: 'The provided tokens are valid but they do not have the permission to get data: Error message {error}',
    path: CREDENTIALS,
    cause: 'HTTP 302 to `/403` (the token may not use the endpoint) or to `/login` (token not accepted there, or the endpoint does not exist on this instance), 403, or the login page; the same ID during a pull',
    remedy: 'Give the API token permission for the endpoints of the configured services, or remove the service; check that the instance is a Threat Visualizer that serves this API.',
  },
  unexpectedHttp: {
    type: 'SetupError', id: 103,
    message: 'Unexpected HTTP error occurred at the Darktrace server. status code, {status} error: {error}',
    cause: 'any other HTTP error during setup or `--check` (5xx after retries, a non-JSON body)',
    remedy: 'Contact the developer with the exact error message.',
  },
  clockSkew: {
    type: 'SetupError', id: 104,
    message: "The Darktrace server rejected the request date (API DATE ERROR): this machine's clock and the instance's clock differ by more than the allowed skew (about 30 minutes). {clocks}",
    cause: 'HTTP 400 `API DATE ERROR`: clock skew; `{clocks}` shows both clocks (not in the manual); the same ID during a pull',
    remedy: "Synchronise this machine's clock (NTP): Darktrace rejects requests whose DTAPI-Date differs from the instance clock by more than about 30 minutes.",
  },
  pullHttp: {
    type: 'PullError', id: 300,
    message: 'HTTP Error occurred while retrieving events from Darktrace server: summary {summary} details {details}',
    cause: 'an HTTP error status from a data endpoint (5xx after 5 retries with back-off, an unexpected 4xx or redirect); the next cycle resumes from the last checkpoint',
    remedy: DEVELOPER,
    retryable: true,
  },
  pullOther: {
    type: 'PullError', id: 301,
    message: 'Some error occurred while retrieving events from Darktrace server. Error details: {error}',
    cause: 'a network failure after retries, a timeout, or a body that is not the expected JSON; the next cycle resumes from the last checkpoint',
    remedy: DEVELOPER,
    retryable: true,
  },
});

/** The cause of a PullError 300 for a status the transport would retry (5xx, 429). */
export class TransientStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.name = 'TransientStatus';
  }
}
