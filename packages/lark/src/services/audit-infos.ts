import { defineService, parseBaseUrl, parseConfigTime, pullWindows, recordField, type PullContext, type TimeWindow, type WindowPolicy } from '@collector/sdk';
import { AUDIT_INFOS_DEFAULTS, auditInfosOptionsSchema, larkBaseUrl, type AuditInfosOptions } from '../config.js';
import { LarkClient, LarkRequestError } from '../client.js';
import { larkErrors } from '../errors.js';

/** Everything with event_time <= latest (epoch seconds) was delivered. */
export type AuditInfosCheckpoint = { latest: number };

const DAY_MS = 86_400_000;
/**
 * Lark accepts windows of up to 30 days, but a window is the unit of progress: a stop or crash inside one
 * pulls it again. One day keeps that repeat small and costs one request per empty day of catch-up.
 */
export const AUDIT_INFOS_WINDOW_MS = DAY_MS;
/** Remembered unique_ids: must exceed the events of one look-back, or a re-read can duplicate. */
export const AUDIT_INFOS_DEDUP_WINDOW = 50_000;

function numberOption(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** The configured start time; an empty value (`initial_start_time_in_utc_value:` with nothing after it) means unset. */
export function configuredStartValue(options: AuditInfosOptions): string | undefined {
  const value = options.initial_start_time_in_utc_value as unknown;
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

/**
 * Lark's window policy: the first pull starts at the configured time (else 7 days back); later pulls start
 * `lookback_in_seconds` before the checkpoint, never before the configured start, in whole seconds (the
 * API takes epoch seconds). The checkpoint's own second is read again on purpose: whether Lark's `latest` is
 * inclusive is not documented, and dedup on unique_id drops what was already sent.
 */
export function auditInfosWindowPolicy(options: AuditInfosOptions, now: Date): WindowPolicy<AuditInfosCheckpoint> {
  const value = configuredStartValue(options);
  const configured = value === undefined ? undefined : parseConfigTime(value);
  return {
    initialStart: configured ?? new Date(now.getTime() - AUDIT_INFOS_DEFAULTS.initialLookbackDays * DAY_MS),
    floor: configured,
    resumeAt: (checkpoint) => new Date(checkpoint.latest * 1000),
    checkpointAt: (end) => ({ latest: Math.floor(end.getTime() / 1000) }),
    lookbackMs: numberOption(options.lookback_in_seconds, AUDIT_INFOS_DEFAULTS.lookbackSeconds) * 1000,
    maxSpanMs: AUDIT_INFOS_WINDOW_MS,
    delayMs: numberOption(options.override_time_delay_in_seconds, AUDIT_INFOS_DEFAULTS.timeDelaySeconds) * 1000,
    alignMs: 1000,
  };
}

/** An audit record's dedup key: its `unique_id` (a string or a number), as text. */
function auditInfoKey(event: unknown): string | undefined {
  const id = recordField(event, 'unique_id');
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

export const auditInfosService = defineService<LarkClient, AuditInfosOptions, AuditInfosCheckpoint>({
  tag: AUDIT_INFOS_DEFAULTS.tag,
  moduleName: 'LarkBasePuller',
  logLines: { sent: (count) => `Sent ${count} events` },
  options: auditInfosOptionsSchema,
  requestPeriodSeconds: AUDIT_INFOS_DEFAULTS.requestPeriodSeconds,
  dedupWindow: AUDIT_INFOS_DEDUP_WINDOW,

  init(ctx) {
    const value = configuredStartValue(ctx.options);
    if (value !== undefined) {
      const path = `${ctx.path}.initial_start_time_in_utc_value`;
      const start = parseConfigTime(value);
      if (!start) throw larkErrors.startTimeMalformed({ path });
      if (start.getTime() > ctx.now().getTime()) throw larkErrors.startTimeInFuture({ value, path });
    }
    const base = larkBaseUrl(ctx.options);
    if (!parseBaseUrl(base).ok) throw larkErrors.baseUrlInvalid({ value: base, path: `${ctx.path}.override_base_url` });
  },

  // Changing the start time restarts the persistence, as the manual's "Restart the persistence" says.
  resetKey: (options) => configuredStartValue(options),

  checkpointTime: (checkpoint) => new Date(checkpoint.latest * 1000),

  // Records come as JsonRecords (Lark's text, scanned for unique_id); a parsed record gives the same key.
  dedupKey: auditInfoKey,

  async *pull(ctx, checkpoint) {
    await ctx.client.ensureToken();
    yield* pullWindows(ctx, checkpoint, auditInfosWindowPolicy(ctx.options, ctx.now()), (window) => listWindow(ctx, window));
  },
  // No `probe`: setup already makes the smallest audit_infos request ("Remote source is pullable"), and
  // `--check` runs setup.
});

/** The pages of one window, following `page_token`. */
async function* listWindow(ctx: PullContext<LarkClient, AuditInfosOptions>, window: TimeWindow): AsyncGenerator<unknown[]> {
  const oldest = Math.floor(window.start.getTime() / 1000);
  const latest = Math.floor(window.end.getTime() / 1000);
  let pageToken: string | undefined;
  let retrieved = 0;
  let page: Awaited<ReturnType<typeof listPage>> | undefined;
  do {
    page = await listPage(ctx, { oldest, latest, pageToken });
    retrieved += page.items.length;
    pageToken = page.pageToken;
    if (pageToken) ctx.log.debug(`Retrieved ${page.items.length} audit_infos event(s) (more pages follow)`);
    else ctx.log.info(`Retrieved ${retrieved} audit_infos event(s)`);
    yield page.items;
    // Not kept while the next page is fetched and parsed (a suspended generator keeps its variables).
    page = undefined;
  } while (pageToken);
}

async function listPage(ctx: PullContext<LarkClient, AuditInfosOptions>, query: { oldest: number; latest: number; pageToken: string | undefined }) {
  try {
    return await ctx.client.listAuditInfos(ctx.http, query);
  } catch (error) {
    if (error instanceof LarkRequestError) throw error.rejected ? larkErrors.pullRejected({ detail: error.message }) : larkErrors.pullFailed({ error: error.message });
    throw error;
  }
}
