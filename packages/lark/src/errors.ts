import { defineErrors } from '@collector/sdk';

/**
 * The manual's troubleshooting table, with the manual's message texts (operators search for them). Where Lark
 * said more, the constructors take it as `detail`, printed after a period. The README's error table is
 * rendered from this declaration (`pnpm docs`); IDs the manual does not have are marked there.
 */
export const DATETIME_FORMAT = 'YYYY-MM-DDTHH:MM:SSZ';

const CHECK_CREDENTIALS = 'Check the credentials and ensure that the collector has the necessary permissions to access the Lark API.';
const CONTACT_DEVELOPER = 'contact the developer with the exact error message.';

export const larkErrors = defineErrors({
  startTimeMalformed: {
    type: 'InitVariablesError', id: 1,
    message: `initial_start_time_in_utc is not set as per the datetime_format : ${DATETIME_FORMAT}`,
    path: '{path}',
    cause: '`initial_start_time_in_utc_value` is not a valid UTC date-time',
    remedy: 'Ensure the date format is correct, e.g. `2024-06-01T00:00:00Z`.',
  },
  startTimeInFuture: {
    type: 'InitVariablesError', id: 2,
    message: 'Date {value} is in the future',
    path: '{path}',
    cause: 'the start time is after now',
    remedy: 'Ensure the datetime is less than current time.',
  },
  baseUrlInvalid: {
    type: 'InitVariablesError', id: 3,
    message: 'override_base_url <{value}> is not an http(s) URL',
    path: '{path}',
    cause: 'a malformed `override_base_url` (not in the manual)',
    remedy: 'Use `https://open.larksuite.com` (Lark) or `https://open.feishu.cn` (Feishu), or remove the key.',
  },
  tokenRejected: {
    type: 'SetupError', id: 100,
    message: 'HTTP error occurred while generating auth token from Lark server',
    path: 'inputs.lark.credentials',
    cause: 'Lark refused the credentials: HTTP 4xx or a nonzero code from the token endpoint (`10003` unknown app_id, `10014` wrong app_secret)',
    remedy: CHECK_CREDENTIALS,
  },
  tokenFailed: {
    type: 'SetupError', id: 101,
    message: 'Some error occurred while generating auth token from Lark server. Error details: {error}',
    cause: 'no usable answer from the token endpoint (network, TLS, DNS, a body that is not JSON)',
    remedy: `Check network access to the base URL; otherwise ${CONTACT_DEVELOPER}`,
    retryable: true,
  },
  tokenStatus: {
    type: 'SetupError', id: 102,
    message: 'Unable to generate auth token with status code as {status}',
    cause: 'the token endpoint kept answering 5xx, or 200 without a token',
    remedy: `Check the base URL and Lark's status page; otherwise ${CONTACT_DEVELOPER}`,
    retryable: true,
  },
  probeRejected: {
    type: 'SetupError', id: 103,
    message: 'HTTP Error occurred while fetching audit infos from Lark server',
    cause: "setup's first audit_infos request was refused, typically code `99991672` (the app lacks `admin:audit_info:readonly`)",
    remedy: `Grant the app the admin:audit_info:readonly scope, publish a new version of the app, then restart; otherwise ${CONTACT_DEVELOPER}`,
  },
  probeFailed: {
    type: 'SetupError', id: 104,
    message: 'Some error occurred while fetching audit infos from Lark server. Error details: {error}',
    cause: "setup's first audit_infos request got no usable answer",
    remedy: CHECK_CREDENTIALS,
    retryable: true,
  },
  pullRejected: {
    type: 'PullError', id: 300,
    message: 'HTTP error occurred while fetching audit infos from Lark server',
    cause: 'an audit_infos request was refused during a pull (4xx, a nonzero code, a token still invalid after a refresh, throttling beyond 5 retries)',
    remedy: CHECK_CREDENTIALS,
    retryable: true,
  },
  pullFailed: {
    type: 'PullError', id: 301,
    message: 'Some error occurred while fetching audit infos from Lark server. Error details: {error}',
    cause: 'no usable answer during a pull (network after retries, a body that is not JSON, `has_more` without `page_token`)',
    remedy: `If it persists, ${CONTACT_DEVELOPER}`,
    retryable: true,
  },
});
