import { InitVariablesError, PullError, SetupError } from '@collector/sdk';

/**
 * The manual's troubleshooting table, one function per row, with the manual's message texts (operators search
 * for them). Where Lark said more, the details follow the manual's text after a period. IDs the manual does
 * not have (InitVariablesError 3) are documented in README.md.
 */
export const DATETIME_FORMAT = 'YYYY-MM-DDTHH:MM:SSZ';

const CHECK_CREDENTIALS = 'Check the credentials and ensure that the collector has the necessary permissions to access the Lark API.';
const CONTACT_DEVELOPER = 'Contact the developer with exact error message.';

function detail(details: string | undefined): string {
  return details ? `. ${details}` : '';
}

export const larkErrors = {
  startTimeMalformed: (path: string) =>
    new InitVariablesError(1, `initial_start_time_in_utc is not set as per the datetime_format : ${DATETIME_FORMAT}`, {
      path,
      remedy: 'Ensure the date format is correct.',
    }),
  startTimeInFuture: (value: string, path: string) =>
    new InitVariablesError(2, `Date ${value} is in the future`, { path, remedy: 'Ensure the datetime is less than current time' }),
  baseUrlInvalid: (value: string, path: string) =>
    new InitVariablesError(3, `override_base_url <${value}> is not an http(s) URL`, {
      path,
      remedy: 'Use https://open.larksuite.com (Lark) or https://open.feishu.cn (Feishu), or remove the key.',
    }),

  /** The token endpoint refused the app_id/app_secret (HTTP 4xx or a nonzero body code). */
  tokenRejected: (details: string) =>
    new SetupError(100, `HTTP error occurred while generating auth token from Lark server${detail(details)}`, {
      path: 'inputs.lark.credentials',
      remedy: CHECK_CREDENTIALS,
    }),
  /** The token request never got a usable answer (network, TLS, a body that is not JSON). */
  tokenFailed: (error: string) =>
    new SetupError(101, `Some error occurred while generating auth token from Lark server. Error details: ${error}`, {
      retryable: true,
      remedy: CONTACT_DEVELOPER,
    }),
  /** The token endpoint kept failing with 5xx, or answered 200 without a token. */
  tokenStatus: (status: number, details?: string) =>
    new SetupError(102, `Unable to generate auth token with status code as ${status}${detail(details)}`, { retryable: true, remedy: CONTACT_DEVELOPER }),
  /** Setup's first audit_infos request was refused (e.g. the app lacks admin:audit_info:readonly). */
  probeRejected: (details: string) =>
    new SetupError(103, `HTTP Error occurred while fetching audit infos from Lark server${detail(details)}`, {
      remedy: 'Grant the app the admin:audit_info:readonly scope, publish a new version of the app, then restart. ' + CONTACT_DEVELOPER,
    }),
  probeFailed: (error: string) =>
    new SetupError(104, `Some error occurred while fetching audit infos from Lark server. Error details: ${error}`, {
      retryable: true,
      remedy: CHECK_CREDENTIALS,
    }),

  /** An audit_infos request was refused during a pull; retried on the next cycle. */
  pullRejected: (details: string) =>
    new PullError(300, `HTTP error occurred while fetching audit infos from Lark server${detail(details)}`, { retryable: true, remedy: CHECK_CREDENTIALS }),
  pullFailed: (error: string) =>
    new PullError(301, `Some error occurred while fetching audit infos from Lark server. Error details: ${error}`, {
      retryable: true,
      remedy: CONTACT_DEVELOPER,
    }),
};

/** `--check` remedies by `<Type> <ID>`. */
export const larkRemedies: Record<string, string> = {
  'InitVariablesError 1': 'Ensure the date format is correct.',
  'InitVariablesError 2': 'Ensure the datetime is less than current time',
  'SetupError 100': CHECK_CREDENTIALS,
  'SetupError 101': CONTACT_DEVELOPER,
  'SetupError 102': CONTACT_DEVELOPER,
  'SetupError 103': CONTACT_DEVELOPER,
  'SetupError 104': CHECK_CREDENTIALS,
  'PullError 300': CHECK_CREDENTIALS,
  'PullError 301': CONTACT_DEVELOPER,
};
