import { baseUrlOr, requiredStrings, windowOptions, type JsonSchema } from '@collector/sdk';

/** The defaults of the `audit_infos` service keys; README.md documents each one. */
export const AUDIT_INFOS_DEFAULTS = {
  /** Devo table of the events (`override_tag` / `override_devo_tag` replace it). */
  tag: 'app.lark.audit.event',
  /** Lark's international host; Feishu (China) tenants use https://open.feishu.cn. */
  baseUrl: 'https://open.larksuite.com',
  requestPeriodSeconds: 60,
  /** Each pull starts this far before the last checkpoint, so events Lark indexes late are still read. */
  lookbackSeconds: 300,
  /** How far behind now a window may end. Zero: the look-back already covers late indexing. */
  timeDelaySeconds: 0,
  /** Without `initial_start_time_in_utc_value`, the first pull starts this long before the first start. */
  initialLookbackDays: 7,
} as const;

/** `credentials` of the `lark` input. Both values are secrets: the SDK masks them in every log line. */
export const credentialsSchema: JsonSchema = requiredStrings(['app_id', 'app_secret']);

/**
 * Keys of the `audit_infos` service. The SDK adds `request_period_in_seconds`, `override_tag` and
 * `override_devo_tag`. `initial_start_time_in_utc_value` is checked in `init` (not by a schema pattern) so
 * that a malformed value gives the manual's InitVariablesError 1.
 */
export const auditInfosOptionsSchema: JsonSchema = {
  type: 'object',
  properties: windowOptions({
    startKey: 'initial_start_time_in_utc_value',
    baseUrl: AUDIT_INFOS_DEFAULTS.baseUrl,
    lookbackSeconds: { default: AUDIT_INFOS_DEFAULTS.lookbackSeconds, max: 30 * 86_400 },
    delaySeconds: AUDIT_INFOS_DEFAULTS.timeDelaySeconds,
  }),
};

/** The `audit_infos` block as configured (before defaults, which `resolveAuditInfosOptions` applies). */
export interface AuditInfosOptions {
  initial_start_time_in_utc_value?: string;
  override_base_url?: string;
  lookback_in_seconds?: number;
  override_time_delay_in_seconds?: number;
  request_period_in_seconds?: number;
  override_tag?: string;
  override_devo_tag?: string;
}

/** Lark's base URL without a trailing slash. */
export function larkBaseUrl(options: Pick<AuditInfosOptions, 'override_base_url'> | undefined): string {
  return baseUrlOr(options?.override_base_url, AUDIT_INFOS_DEFAULTS.baseUrl);
}
