import { InitVariablesError, PullError, SetupError } from '@collector/sdk';

/**
 * The Darktrace manual's troubleshooting tables as code. IDs and messages follow the manual where it has
 * them (InitVariablesError 22-35, SetupError 100-103, PullError 300-301); the rest are ours and documented
 * in the README (InitVariablesError 36-40, SetupError 104).
 */

const CREDENTIALS = 'inputs.darktrace.credentials';

export const remedies: Record<string, string> = {
  'SetupError 100': 'Check that the instance host (and port) is right and reachable from this machine over HTTPS.',
  'SetupError 101': 'Check credentials.public_token and credentials.private_token: copy both again from the Threat Visualizer (System Config > Settings > API Token).',
  'SetupError 102': 'Give the API token permission for the endpoints of the configured services (or check that the instance is a Threat Visualizer that serves this API).',
  'SetupError 103': 'Contact the developer with the exact error message.',
  'SetupError 104': "Synchronise this machine's clock (NTP): Darktrace rejects requests whose DTAPI-Date differs from the instance clock by more than about 30 minutes.",
  'PullError 300': 'Transient errors are retried on the next cycle; if it persists, contact the developer with the exact error message.',
  'PullError 301': 'Transient errors are retried on the next cycle; if it persists, contact the developer with the exact error message.',
};

// ---- InitVariablesError (config.yaml) ----

export const credentialsMissing = () =>
  new InitVariablesError(22, `${CREDENTIALS} mandatory property is missing or empty`, { path: CREDENTIALS });
export const credentialsNotDict = () => new InitVariablesError(23, `${CREDENTIALS} property must be a dictionary`, { path: CREDENTIALS });

/** 24/25 public_token, 26/27 private_token, 28/29 instance: missing-or-empty, then not-a-string. */
const CREDENTIAL_IDS = { public_token: [24, 25], private_token: [26, 27], instance: [28, 29] } as const;
export type CredentialKey = keyof typeof CREDENTIAL_IDS;

export const credentialMissing = (key: CredentialKey) =>
  new InitVariablesError(CREDENTIAL_IDS[key][0], `${CREDENTIALS}.${key} mandatory property is missing or empty`, { path: `${CREDENTIALS}.${key}` });
export const credentialNotString = (key: CredentialKey) =>
  new InitVariablesError(CREDENTIAL_IDS[key][1], `${CREDENTIALS}.${key} property must be a string`, { path: `${CREDENTIALS}.${key}` });

export const devoTagNotString = (path: string) =>
  new InitVariablesError(32, `${path}.override_devo_tag property must be a string`, { path: `${path}.override_devo_tag` });
export const startTimeNotString = (path: string) =>
  new InitVariablesError(33, `${path}.start_time_in_utc_format property must be a string`, { path: `${path}.start_time_in_utc_format` });
export const startTimeBadFormat = (path: string) =>
  new InitVariablesError(34, `${path}.start_time_in_utc_format does not match the format YYYY-MM-DDTHH:MM:SS (UTC, e.g. 2024-05-14T00:00:00Z)`, {
    path: `${path}.start_time_in_utc_format`,
  });
export const startTimeInFuture = (path: string, value: string) =>
  new InitVariablesError(34, `${path}.start_time_in_utc_format ${value} is in the future`, { path: `${path}.start_time_in_utc_format` });
export const windowNotInteger = (path: string) =>
  new InitVariablesError(35, `${path}.override_time_window_interval_in_minutes property must be an int`, {
    path: `${path}.override_time_window_interval_in_minutes`,
  });

// Ours (not in the manual).
export const instanceMalformed = (value: string) =>
  new InitVariablesError(36, `${CREDENTIALS}.instance "${value}" is not a host name with an optional port (e.g. example.cloud.darktrace.com or 10.0.0.5:8443) nor an http(s) URL`, {
    path: `${CREDENTIALS}.instance`,
  });
export const windowTooSmall = (path: string) =>
  new InitVariablesError(37, `${path}.override_time_window_interval_in_minutes must be at least 1`, {
    path: `${path}.override_time_window_interval_in_minutes`,
  });
export const lookbackInvalid = (path: string) =>
  new InitVariablesError(38, `${path}.lookback_in_minutes must be an integer from 0 to 10080 (7 days)`, { path: `${path}.lookback_in_minutes` });
export const delayInvalid = (path: string) =>
  new InitVariablesError(39, `${path}.override_time_delay_in_seconds must be an integer from 0 to 86400`, {
    path: `${path}.override_time_delay_in_seconds`,
  });
export const flagNotBoolean = (path: string, key: string) =>
  new InitVariablesError(40, `${path}.${key} property must be a boolean (true or false)`, { path: `${path}.${key}` });

export const baseUrlInvalid = (path: string) =>
  new InitVariablesError(41, `${path}.override_base_url must be an http(s) URL without a path, or a host with an optional port`, { path: `${path}.override_base_url` });

export const timeoutInvalid = (path: string) =>
  new InitVariablesError(42, `${path}.request_timeout_in_seconds must be an integer from 1 to 3600`, { path: `${path}.request_timeout_in_seconds` });

// ---- SetupError (authentication and permissions) ----

export const requestFailed = (detail: string) =>
  new SetupError(100, `Error occurred while requesting from the Darktrace server. Error message: ${detail}`, { remedy: remedies['SetupError 100'], retryable: true });
export const wrongTokens = (detail: string) =>
  new SetupError(101, `The tokens provided are incorrect. Please specify the correct credentials. Error message ${detail}`, {
    path: CREDENTIALS,
    remedy: remedies['SetupError 101'],
  });
export const noPermission = (detail: string) =>
  new SetupError(102, `The provided tokens are valid but they do not have the permission to get data: Error message ${detail}`, {
    path: CREDENTIALS,
    remedy: remedies['SetupError 102'],
  });
export const unexpectedHttp = (status: number, detail: string) =>
  new SetupError(103, `Unexpected HTTP error occurred at the Darktrace server. status code, ${status} error: ${detail}`, { remedy: remedies['SetupError 103'] });
export const clockSkew = (detail: string) =>
  new SetupError(104, `The Darktrace server rejected the request date (API DATE ERROR): this machine's clock and the instance's clock differ by more than the allowed skew (about 30 minutes). ${detail}`, {
    remedy: remedies['SetupError 104'],
  });

// ---- PullError (while pulling) ----

/** The cause of a PullError 300 for a status the transport would retry (5xx, 429). */
export class TransientStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.name = 'TransientStatus';
  }
}

export const pullHttpError = (summary: string, details: string, status?: number) =>
  new PullError(300, `HTTP Error occurred while retrieving events from Darktrace server: summary ${summary} details ${details}`, {
    retryable: true,
    ...(status !== undefined && (status >= 500 || status === 429) ? { cause: new TransientStatus(status) } : {}),
  });
export const pullOtherError = (detail: string, cause?: unknown) =>
  new PullError(301, `Some error occurred while retrieving events from Darktrace server. Error details: ${detail}`, { retryable: true, cause });

export const aliasWithCurrent = (path: string, alias: string, current: string) =>
  new InitVariablesError(43, `${path}: <${alias}> is the old name of <${current}>, which is configured too; keep only <${current}>`, { path });
