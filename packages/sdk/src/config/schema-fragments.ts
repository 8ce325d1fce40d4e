import type { JsonSchema } from '../runtime/definitions.js';

/** A `credentials` schema whose keys are all required, non-empty strings (the SDK masks them as secrets). */
export function requiredStrings(keys: readonly string[]): JsonSchema {
  return { type: 'object', required: [...keys], properties: Object.fromEntries(keys.map((k) => [k, { type: 'string', minLength: 1 }])) };
}

export interface WindowOptionsSpec {
  /** The service's start-time key (`initial_start_time_in_utc_value`, `start_time_in_utc_format`, ...). */
  startKey: string;
  /** The vendor's API base, the default of `override_base_url`. */
  baseUrl: string;
  lookbackSeconds: { default: number; max: number };
  delaySeconds: number;
}

/**
 * The keys a time-window service takes besides the SDK's own: its start time (checked by the service's
 * `init`, not by a pattern, so that a malformed value gives the manual's error ID), `override_base_url`,
 * `lookback_in_seconds` and `override_time_delay_in_seconds`.
 */
export function windowOptions(spec: WindowOptionsSpec): Record<string, JsonSchema> {
  return {
    [spec.startKey]: { type: 'string' },
    override_base_url: { type: 'string', default: spec.baseUrl },
    lookback_in_seconds: { type: 'integer', minimum: 0, maximum: spec.lookbackSeconds.max, default: spec.lookbackSeconds.default },
    override_time_delay_in_seconds: { type: 'integer', minimum: 0, maximum: 86_400, default: spec.delaySeconds },
  };
}
