import { PullError, SetupError } from '@collector/sdk';

/**
 * The manual's troubleshooting table, one function per row. The manual gives each row's cause and solution
 * (its message cells are empty), so the messages carry the cause in the manual's words plus the details an
 * operator needs; SetupError 102 is ours and documented in README.md.
 */
export const DATETIME_FORMAT = 'YYYY-MM-DDTHH:MM:SSZ';

/** The manual's warning when the configured start is more than 7 days back (its exact words). */
export const START_TIME_CLAMPED_WARNING =
  'Start_Time_in_utc must be at most 7.00d into the past, Changing the time startTime to be in the specified time';

const CREDENTIALS_REMEDY = 'Make sure that credentials are correct.';
const START_TIME_REMEDY = `Make sure the start time is not in future and is in the proper format (${DATETIME_FORMAT}).`;
const HTTP_REMEDY = 'The HTTP error code, summary and details say what Proofpoint refused; fix it or wait for Proofpoint to recover.';
const DEVELOPER_REMEDY = 'Reach out to the developer with the exact error message.';

export const proofpointErrors = {
  /** HTTP 401: the service principal or its secret is wrong (or was revoked). */
  credentials: (status: number, path: string, notBefore?: Date) =>
    new SetupError(
      100,
      `username and password is not correct: Proofpoint answered HTTP ${status} Unauthorized` +
        (notBefore ? ` (not asked again before ${notBefore.toISOString().replace(/\.\d{3}Z$/, 'Z')}, to save the request budget; restart after fixing the credentials)` : ''),
      {
        path,
        remedy: CREDENTIALS_REMEDY,
      },
    ),
  startTimeMalformed: (value: string, path: string) =>
    new SetupError(101, `start_time_in_utc is in future or not in proper format: <${value}> is not in the format ${DATETIME_FORMAT}`, {
      path,
      remedy: START_TIME_REMEDY,
    }),
  startTimeInFuture: (value: string, path: string) =>
    new SetupError(101, `start_time_in_utc is in future or not in proper format: ${value} is in the future`, { path, remedy: START_TIME_REMEDY }),
  baseUrlInvalid: (value: string, path: string) =>
    new SetupError(102, `override_base_url <${value}> is not an http(s) URL`, {
      path,
      remedy: 'Use https://tap-api-v2.proofpoint.com (the default), or remove the key.',
    }),
  /** Proofpoint answered with an HTTP error (after the SDK's retries for 429 and 5xx). */
  http: (status: number, summary: string, details: string, endpoint: string) =>
    new PullError(300, `HTTP error ${status} while fetching ${endpoint}: ${summary}${details ? ` - ${details}` : ''}`, {
      retryable: true,
      remedy: HTTP_REMEDY,
    }),
  /** No usable answer: network failure, timeout, TLS, a body that is not the documented JSON. */
  request: (error: string, endpoint: string) =>
    new PullError(301, `Some exception occurred while making the API request to ${endpoint}: ${error}`, { retryable: true, remedy: DEVELOPER_REMEDY }),
};

/** `--check` remedies by `<Type> <ID>`. */
export const proofpointRemedies: Record<string, string> = {
  'SetupError 100': CREDENTIALS_REMEDY,
  'SetupError 101': START_TIME_REMEDY,
  'SetupError 102': 'Use https://tap-api-v2.proofpoint.com (the default), or remove the key.',
  'PullError 300': HTTP_REMEDY,
  'PullError 301': DEVELOPER_REMEDY,
};
