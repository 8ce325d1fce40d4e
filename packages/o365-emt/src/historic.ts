import { hash } from 'node:crypto';
import { formatUtc, planWindows, type Logger, type WindowPlan, type WindowPolicy } from '@collector/sdk';
import type { HistoricLimits } from './config.js';

const DAY_MS = 86_400_000;

/** What a service persists: where the next window starts (the end of the last fully delivered window). */
export interface MessageTraceCheckpoint {
  [key: string]: string | null;
  start_time: string;
}

/** The oldest start the APIs accept: now − cutoff days + margin (the manual's max_historic_date_* keys). */
export function historicFloor(now: Date, limits: HistoricLimits, maxDaysBack = Number.POSITIVE_INFINITY): Date {
  const days = Math.min(limits.cutoffDays, maxDaysBack);
  return new Date(now.getTime() - days * DAY_MS + limits.marginSeconds * 1000);
}

/**
 * The first window of a service without a savepoint ends at now − delay and is one 15-minute pipeline
 * long: the original collector's log shows its first window starting at about now − 25 h 15 min (the
 * default 25 h delay plus one pipeline), not at the historic cutoff.
 */
export const FIRST_WINDOW_MS = 15 * 60_000;

/** How a service cuts its pipelines: window size, fixed-size windows (RWS) and the API's own reach in days. */
export interface PipelineShape {
  maxSpanMs: number;
  wholeWindows?: boolean;
  maxDaysBack?: number;
}

export interface PullPlanArgs {
  checkpoint: MessageTraceCheckpoint | undefined | null;
  now: Date;
  limits: HistoricLimits;
  lookbackSeconds: number;
  delaySeconds: number;
  resetPersistenceAuth?: string | undefined;
  /** `--start-at` (ctx.startAt): a first run starts there minus the look-back. */
  startAt?: Date | undefined;
  log: Logger;
}

/** The savepoint's instant; undefined when it is missing or unreadable (then the pull starts as a first run). */
function savedStart(checkpoint: MessageTraceCheckpoint): Date | undefined {
  const saved = checkpoint.start_time ? Date.parse(checkpoint.start_time) : Number.NaN;
  return Number.isNaN(saved) ? undefined : new Date(saved);
}

/**
 * Microsoft 365's window policy: resume at the savepoint minus the look-back; with no savepoint at
 * `--start-at` minus the look-back, or else now − delay − 15 min (the original's first window). Every start
 * is clamped to the historic floor (now − cutoff days + margin): the API rejects (or no longer has) anything
 * older, and a start from a savepoint or `--start-at` moved up to it is a warning because traces in between
 * are not collected. Whole seconds: both APIs take second-resolution filters and windows must join.
 */
export function messageTracePolicy(args: PullPlanArgs & PipelineShape): WindowPolicy<MessageTraceCheckpoint> {
  const { limits, log } = args;
  const days = Math.min(limits.cutoffDays, args.maxDaysBack ?? Number.POSITIVE_INFINITY);
  return {
    initialStart: new Date(args.now.getTime() - args.delaySeconds * 1000 - FIRST_WINDOW_MS),
    resumeAt: savedStart,
    checkpointAt: (end) => savepoint(end, args.resetPersistenceAuth),
    lookbackMs: args.lookbackSeconds * 1000,
    historicFloor: (now) => historicFloor(now, limits, args.maxDaysBack),
    onClamp: ({ source, wanted, floor }) => {
      if (source === 'initial') return;
      const what = source === 'checkpoint' ? 'The saved start' : 'The --start-at start (minus lookback_in_seconds)';
      log.warning(
        `${what} ${formatUtc(wanted)} is older than the maximum historic date (-${days} days, max_historic_date_cutoff_days_back): ` +
          `starting at ${formatUtc(floor)} (now - ${days} day(s) + ${limits.marginSeconds} s max_historic_date_margin_seconds) instead; ` +
          'message traces between the two are not collected',
      );
    },
    maxSpanMs: args.maxSpanMs,
    ...(args.wholeWindows ? { wholeWindows: true } : {}),
    delayMs: args.delaySeconds * 1000,
    alignMs: 1000,
  };
}

/** The windows of one pull on the SDK's engine, with the original's first-run lines. */
export function planPull(args: PullPlanArgs & PipelineShape): WindowPlan {
  const { checkpoint, now, limits, log } = args;
  const plan = planWindows(messageTracePolicy(args), checkpoint, now, args.startAt);
  if (plan.source === 'initial') {
    const days = Math.min(limits.cutoffDays, args.maxDaysBack ?? Number.POSITIVE_INFINITY);
    log.info('No saved state found, applying values by default');
    log.info(`Validating the start and end time based on the maximum threshold (-${days} days): ${formatUtc(historicFloor(now, limits, args.maxDaysBack))} (now - ${days} day(s) + ${limits.marginSeconds} s margin)`);
  }
  return plan;
}

/**
 * Where a pull starts (a building block of `planPull`): `cutover` is `--start-at` minus the look-back, as
 * `cutoverStart(ctx, lookback)` gives it.
 */
export function startOfPull(args: Omit<PullPlanArgs, 'startAt'> & { cutover?: Date; maxDaysBack?: number }): Date {
  const startAt = args.cutover ? new Date(args.cutover.getTime() + args.lookbackSeconds * 1000) : undefined;
  return planPull({ ...args, startAt, maxSpanMs: FIRST_WINDOW_MS }).start;
}

/** The savepoint of a window end (or of a first start): where the next window starts. */
export function savepoint(start: Date, resetPersistenceAuth: string | undefined): MessageTraceCheckpoint {
  return { start_time: formatUtc(start), reset_persistence_auth: resetPersistenceAuth ?? null };
}

/** Whole seconds: both APIs take second-resolution filters, and windows must join without gaps. */
export function floorToSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/**
 * The dedup key of a trace row: one row per (message, recipient), so the key holds the message trace id,
 * the message id and the recipient (distinct recipients of one message are distinct events), plus time and
 * status (a status change is new information). Hashed: short keys in the state file, no addresses in it.
 */
export function traceKey(parts: readonly unknown[]): string {
  // One-shot `hash` (no Hash object) and one string built in a loop: the same digest, at half the cost a row.
  let text = '';
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) text += '\u0000';
    text += keyPart(parts[i]);
  }
  return traceDigest(text);
}

/** A key part as `traceKey` writes it: absent (undefined, null) is empty, anything else its `String()`. */
export function keyPart(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

/** The key of `traceKey`'s text (its parts joined by NUL): SHA-256, base64url, the first 24 characters. */
export function traceDigest(text: string): string {
  return hash('sha256', text, 'base64url').slice(0, 24);
}
