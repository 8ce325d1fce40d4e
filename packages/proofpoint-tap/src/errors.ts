import { defineErrors } from '@collector/sdk';

/**
 * The manual's troubleshooting table as data. The manual gives each row's cause and solution (its message
 * cells are empty), so the messages start with the manual's cause in its words, then what an operator
 * needs; SetupError 102 is ours. The README's error table is rendered from this declaration (`pnpm docs`).
 */
export const DATETIME_FORMAT = 'YYYY-MM-DDTHH:MM:SSZ';

/** The manual's warning when the configured start is more than 7 days back (its exact words). */
export const START_TIME_CLAMPED_WARNING =
  'Start_Time_in_utc must be at most 7.00d into the past, Changing the time startTime to be in the specified time';

const CREDENTIALS_REMEDY =
  'Make sure that credentials are correct. The service principal and its secret must not be deleted; restart after fixing them, since after a 401 no service of the input asks Proofpoint again for 15 minutes (every request spends budget).';
const START_TIME_REMEDY = `Make sure the start time is not in the future and is in the proper format (${DATETIME_FORMAT}).`;

export const proofpointErrors = defineErrors({
  credentials: {
    type: 'SetupError', id: 100,
    message: 'username and password is not correct: Proofpoint answered HTTP {status} Unauthorized',
    path: '{path}',
    cause: 'username and password is not correct (or the credential was deleted): HTTP 401',
    remedy: CREDENTIALS_REMEDY,
  },
  credentialsHeldBack: {
    type: 'SetupError', id: 100, sameIdAs: 'credentials',
    message: 'username and password is not correct: Proofpoint answered HTTP {status} Unauthorized (not asked again before {until}, to save the request budget; restart after fixing the credentials)',
    path: '{path}',
    cause: 'a request within 15 minutes of a 401: Proofpoint is not asked again',
    remedy: CREDENTIALS_REMEDY,
  },
  startTimeMalformed: {
    type: 'SetupError', id: 101,
    message: `start_time_in_utc is in future or not in proper format: <{value}> is not in the format ${DATETIME_FORMAT}`,
    path: '{path}',
    cause: '`start_time_in_utc_format` is not in the proper format (raised at start and by `--validate`, before any request)',
    remedy: START_TIME_REMEDY,
  },
  startTimeInFuture: {
    type: 'SetupError', id: 101, sameIdAs: 'startTimeMalformed',
    message: 'start_time_in_utc is in future or not in proper format: {value} is in the future',
    path: '{path}',
    cause: '`start_time_in_utc_format` is in the future (raised at start and by `--validate`, before any request)',
    remedy: START_TIME_REMEDY,
  },
  baseUrlInvalid: {
    type: 'SetupError', id: 102,
    message: 'override_base_url <{value}> is not an http(s) URL',
    path: '{path}',
    cause: 'a malformed `override_base_url` (not in the manual)',
    remedy: 'Use https://tap-api-v2.proofpoint.com (the default), or remove the key.',
  },
  http: {
    type: 'PullError', id: 300,
    message: 'HTTP error {status} while fetching {endpoint}: {answer}',
    cause:
      'Proofpoint refused the request (4xx other than 401, 429 after 5 waits, 5xx after 5 retries). `{answer}` is the status text (or the body\'s `message`), then ` - ` and the body, e.g. `HTTP error 400 while fetching /v2/siem/messages/delivered: Bad Request - The requested interval is too long...`',
    remedy: 'The HTTP error code, summary and details say what Proofpoint refused: fix it (e.g. the credentials\' permissions) or wait for Proofpoint to recover. The window is read again from the same position.',
    retryable: true,
  },
  request: {
    type: 'PullError', id: 301,
    message: 'Some exception occurred while making the API request to {endpoint}: {error}',
    cause: 'the request got no usable answer: network, TLS, timeout, a body that is not the documented JSON',
    remedy: 'If it persists, reach out to the developer with the exact error message.',
    retryable: true,
  },
});
