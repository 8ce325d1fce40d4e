import { baseUrlOr, requiredStrings, windowOptions, type JsonSchema, type RequestsLimit } from '@collector/sdk';

/** Defaults of the service keys; README.md documents each one. */
export const PROOFPOINT_DEFAULTS = {
  baseUrl: 'https://tap-api-v2.proofpoint.com',
  /**
   * Seconds between pulls. 300 keeps the three services of the shared pool at 3 × 288 = 864 requests a
   * day, under half the 1800 budget, and leaves the rest for catching up (README "Request budget").
   */
  requestPeriodSeconds: 300,
  /**
   * Each pull re-reads this much before the point the previous pull reached, because Proofpoint indexes
   * events up to ~30 min late. It is folded into the next window, so it costs no extra request as long as
   * period + look-back + delay stays under one hour.
   */
  lookbackSeconds: 1800,
  /** How far behind now a window may end (clock skew against Proofpoint's servers). */
  timeDelaySeconds: 60,
  /** Without `start_time_in_utc_format`, the first pull starts this far back. */
  initialLookbackHours: 24,
  /** `threats`: how often the status of a threat already summarised is asked again (0: only when seen in the SIEM stream). */
  threatStatusRecheckSeconds: 3600,
  /** `threats`: how long after it was last seen in the SIEM stream a threat's status is still re-checked (Proofpoint keeps 7 days). */
  threatTrackingHours: 168,
} as const;

/** The API's own limits (vendor-apis.md §4). */
export const PROOFPOINT_LIMITS = {
  /** At most one hour per request. */
  maxWindowMs: 3_600_000,
  /** At least 30 seconds per request. */
  minWindowMs: 30_000,
  /** How far back an interval may start. */
  maxLookbackMs: 7 * 86_400_000,
  /**
   * We start a little inside the 7 days, so the request is still valid when it reaches Proofpoint.
   */
  lookbackSafetyMs: 5 * 60_000,
} as const;

/** 1800 requests per rolling 24 h per credential and pool (README "Request budget"). */
export const PROOFPOINT_DAILY_BUDGET: RequestsLimit[] = [{ period: '1d', number_of_requests: 1800 }];

/**
 * The Forensics API by threat ID: 50 requests per rolling 24 h per credential, apart from the SIEM pools
 * (Proofpoint's Forensics API page, "Throttle Limits"). The Threat API has no throttle limits.
 */
export const PROOFPOINT_FORENSICS_BUDGET: RequestsLimit[] = [{ period: '1d', number_of_requests: 50 }];

/** `credentials` of the `proofpoint_tap` input: the TAP service principal and its secret. */
export const credentialsSchema: JsonSchema = requiredStrings(['username', 'password']);

/**
 * Keys of every service. The SDK adds `request_period_in_seconds`, `override_tag` and `override_devo_tag`.
 * `start_time_in_utc_format` is checked in `init` (not by a schema pattern) so that a malformed value
 * gives the manual's SetupError 101.
 */
export const serviceOptionsSchema: JsonSchema = {
  type: 'object',
  properties: windowOptions({
    startKey: 'start_time_in_utc_format',
    baseUrl: PROOFPOINT_DEFAULTS.baseUrl,
    lookbackSeconds: { default: PROOFPOINT_DEFAULTS.lookbackSeconds, max: 6 * 86_400 },
    delaySeconds: PROOFPOINT_DEFAULTS.timeDelaySeconds,
  }),
};

/** Keys of the `threats` service: the SIEM keys plus the Threat and Forensics API switches. */
export const threatsOptionsSchema: JsonSchema = {
  ...serviceOptionsSchema,
  properties: {
    ...(serviceOptionsSchema['properties'] as Record<string, unknown>),
    include_forensics: { type: 'boolean', default: false },
    threat_status_recheck_in_seconds: { type: 'integer', minimum: 0, maximum: 7 * 86_400, default: PROOFPOINT_DEFAULTS.threatStatusRecheckSeconds },
    threat_tracking_in_hours: { type: 'integer', minimum: 1, maximum: 168, default: PROOFPOINT_DEFAULTS.threatTrackingHours },
  },
};

export interface ProofpointServiceOptions {
  include_forensics?: boolean;
  threat_status_recheck_in_seconds?: number;
  threat_tracking_in_hours?: number;
  start_time_in_utc_format?: string;
  override_base_url?: string;
  lookback_in_seconds?: number;
  override_time_delay_in_seconds?: number;
  request_period_in_seconds?: number;
  override_tag?: string;
  override_devo_tag?: string;
}

export function proofpointBaseUrl(options: Pick<ProofpointServiceOptions, 'override_base_url'> | undefined): string {
  return baseUrlOr(options?.override_base_url, PROOFPOINT_DEFAULTS.baseUrl);
}
