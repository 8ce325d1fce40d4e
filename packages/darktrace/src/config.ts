import { parseConfigTime, type InitContext, type JsonSchema } from '@collector/sdk';
import { instanceBaseUrl } from './client.js';
import { darktraceErrors as E } from './errors.js';

/*
 * The schemas only declare keys and defaults, not types: the manual gives every wrong value its own
 * InitVariablesError ID, which `init` raises (a schema type would turn them into the SDK's generic
 * ConfigError 10 before our checks run).
 */

export const credentialsSchema: JsonSchema = {
  default: {},
  properties: { public_token: {}, private_token: {}, instance: {} },
};

/**
 * What a service declares about its keys; its schema and its `init` checks are derived from it. Every
 * service takes Devo's keys (`start_time_in_utc_format`, `override_time_window_interval_in_minutes`, plus
 * the SDK's `request_period_in_seconds` and `override_devo_tag`), ours (`override_base_url`,
 * `request_timeout_in_seconds`) and its own boolean switches.
 */
export interface OptionSpec {
  /** The default `lookback_in_minutes` of a time-slot service; a snapshot service has no look-back. */
  lookbackMinutes?: number;
  /** Boolean keys and their defaults (query switches, and `flatten` for `status`). */
  flags?: Readonly<Record<string, boolean>>;
}

/** The JSON Schema properties of a service's keys (defaults only: `init` checks the types with the manual's IDs). */
export function optionProperties(spec: OptionSpec): Record<string, JsonSchema> {
  return {
    override_base_url: {},
    start_time_in_utc_format: {},
    override_time_window_interval_in_minutes: { default: 60 },
    request_timeout_in_seconds: { default: 120 },
    ...(spec.lookbackMinutes === undefined ? {} : { lookback_in_minutes: { default: spec.lookbackMinutes }, override_time_delay_in_seconds: { default: 0 } }),
    ...Object.fromEntries(Object.entries(spec.flags ?? {}).map(([flag, value]) => [flag, { default: value }])),
  };
}

export interface TimeSlotOptions {
  start_time_in_utc_format?: string;
  override_time_window_interval_in_minutes: number;
  lookback_in_minutes: number;
  override_time_delay_in_seconds: number;
  request_timeout_in_seconds: number;
  override_devo_tag?: string;
  override_base_url?: string;
  request_period_in_seconds: number;
  [flag: string]: unknown;
}

export interface DarktraceCredentials {
  publicToken: string;
  privateToken: string;
  baseUrl: string;
}

/** Validates `credentials` with the manual's IDs 22-29 (and 36 for a malformed instance). */
const CREDENTIAL_ERRORS = {
  public_token: { missing: E.publicTokenMissing, notString: E.publicTokenNotString },
  private_token: { missing: E.privateTokenMissing, notString: E.privateTokenNotString },
  instance: { missing: E.instanceMissing, notString: E.instanceNotString },
};

export function checkCredentials(credentials: unknown): DarktraceCredentials {
  if (credentials === undefined || credentials === null || credentials === '') throw E.credentialsMissing();
  if (typeof credentials !== 'object' || Array.isArray(credentials)) throw E.credentialsNotDict();
  const values = credentials as Record<string, unknown>;
  if (Object.keys(values).length === 0) throw E.credentialsMissing();
  const text = (key: keyof typeof CREDENTIAL_ERRORS): string => {
    const value = values[key];
    if (value === undefined || value === null || value === '') throw CREDENTIAL_ERRORS[key].missing();
    if (typeof value !== 'string') throw CREDENTIAL_ERRORS[key].notString();
    if (value.trim() === '') throw CREDENTIAL_ERRORS[key].missing();
    return value;
  };
  const publicToken = text('public_token');
  const privateToken = text('private_token');
  const instance = text('instance');
  const baseUrl = instanceBaseUrl(instance);
  if (!baseUrl) throw E.instanceMalformed({ value: instance });
  return { publicToken, privateToken, baseUrl };
}

/** When `start_time_in_utc_format` is not set, the first pull starts this far back. */
export const DEFAULT_START_BACK_MS = 24 * 3_600_000;

/** Validates the keys every Darktrace service shares (the base URL) plus the input's credentials. */
export function checkCommonOptions(ctx: InitContext<Record<string, unknown>>): void {
  checkCredentials(ctx.input.credentials);
  const base = ctx.options['override_base_url'];
  if (base !== undefined && base !== null && (typeof base !== 'string' || !instanceBaseUrl(base))) throw E.baseUrlInvalid({ path: ctx.path });
}

/** The service's `override_base_url` (CONVENTIONS.md: every HTTP service accepts one), else the instance's. */
export function serviceBaseUrl(options: Record<string, unknown>): string | undefined {
  const base = options['override_base_url'];
  return typeof base === 'string' && base ? instanceBaseUrl(base) : undefined;
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/** Validates a service's keys as `spec` declares them, with the manual's IDs (and ours, 37-42). */
export function checkOptions(ctx: InitContext<Record<string, unknown>>, spec: OptionSpec): void {
  checkCommonOptions(ctx);
  const o = ctx.options;
  const path = ctx.path;
  const start = o['start_time_in_utc_format'];
  if (start !== undefined && start !== null) {
    if (typeof start !== 'string') throw E.startTimeNotString({ path });
    const parsed = parseConfigTime(start);
    if (!parsed) throw E.startTimeBadFormat({ path });
    if (parsed.getTime() > ctx.now().getTime()) throw E.startTimeInFuture({ path, value: start });
  }
  const window = o['override_time_window_interval_in_minutes'];
  if (!isInteger(window)) throw E.windowNotInteger({ path });
  if (window < 1) throw E.windowTooSmall({ path });
  const timeout = o['request_timeout_in_seconds'];
  if (!isInteger(timeout) || timeout < 1 || timeout > 3600) throw E.timeoutInvalid({ path });
  if (spec.lookbackMinutes !== undefined) {
    const lookback = o['lookback_in_minutes'];
    if (!isInteger(lookback) || lookback < 0 || lookback > 10_080) throw E.lookbackInvalid({ path });
    const delay = o['override_time_delay_in_seconds'];
    if (!isInteger(delay) || delay < 0 || delay > 86_400) throw E.delayInvalid({ path });
  }
  for (const flag of Object.keys(spec.flags ?? {})) if (typeof o[flag] !== 'boolean') throw E.flagNotBoolean({ path, key: flag });
}

/** The `true`/`false` query parameters of a service's switches, in declaration order (the signed order). */
export function flagParams(options: Record<string, unknown>, flags: Readonly<Record<string, boolean>>): [string, string][] {
  return Object.keys(flags).map((flag) => [flag, String(options[flag])]);
}

/** The configured start, or (not configured) the hour a day before `now`, so slots fall on whole hours. */
export function configuredStart(options: TimeSlotOptions, now: Date): Date {
  const start = options.start_time_in_utc_format;
  const hour = 3_600_000;
  return (start ? parseConfigTime(start) : undefined) ?? new Date(Math.floor((now.getTime() - DEFAULT_START_BACK_MS) / hour) * hour);
}

/** The value whose change restarts the persistence ("Restart the persistence" in the manual). */
export function configuredStartKey(options: TimeSlotOptions): string | undefined {
  return options.start_time_in_utc_format ?? undefined;
}

/** The manual's wording of the reset line (logged by the SDK when the start time changed). */
export function startTimeResetMessage(previous: string | null, current: string | null): string {
  return (
    `The configuration property "start_time" is having a different value from previous collector executions so the persisted values will be removed. ` +
    `The new "start_time" value will be used as starting point, previous_value: "${previous ?? ''}", new_value: "${current ?? ''}"`
  );
}
