import { pullWindows, type JsonObject, type PullBatch, type PullContext, type WindowPolicy } from '@collector/sdk';
import { isTimeout, isTransient, type DarktraceClient } from '../client.js';
import { configuredStart, type TimeSlotOptions } from '../config.js';

/** Where a time-slot service resumes: the end of the last slot whose events were all delivered. */
export interface SlotCheckpoint extends JsonObject {
  slot_end: string;
}

/** The time a checkpoint stands for (lag metrics, `--show-state`). */
export function slotCheckpointTime(checkpoint: SlotCheckpoint | null | undefined): Date | undefined {
  const end = checkpoint ? Date.parse(checkpoint.slot_end) : Number.NaN;
  return Number.isNaN(end) ? undefined : new Date(end);
}

/** A slot is not split below this span: a minute that still times out is an outage, not a big answer. */
const MIN_SPLIT_MS = 60_000;

/** What a service's slot fetch may be asked: no retries on the first try of a slot that could be split. */
export interface FetchAttempt {
  retries?: number;
}

/**
 * Fetches [start, end); when the instance times out on a wide slot (the API has no paging, so a busy slot
 * is one huge answer), splits it in halves instead of retrying the same request.
 */
async function fetchSplitting<Event>(
  ctx: PullContext<DarktraceClient, TimeSlotOptions>,
  fetchSlot: (start: Date, end: Date, attempt: FetchAttempt) => Promise<Event[]>,
  start: Date,
  end: Date,
): Promise<Event[]> {
  const span = end.getTime() - start.getTime();
  if (span < 2 * MIN_SPLIT_MS) return fetchSlot(start, end, {});
  try {
    return await fetchSlot(start, end, { retries: 0 });
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    if (!isTimeout(error)) {
      // Not a size problem: what the transport retries (5xx, network) gets its ordinary retries. Say so:
      // the first attempt ran without the transport's retries, so nothing else logs this failure.
      if (isTransient(error)) {
        ctx.log.warning(`The request for time slot >> ${pythonUtc(start)} - ${pythonUtc(end)} failed (${(error as Error).message}); retrying it`);
        return fetchSlot(start, end, {});
      }
      throw error;
    }
    const middle = new Date(start.getTime() + Math.floor(span / 2));
    ctx.log.warning(`The request for time slot >> ${pythonUtc(start)} - ${pythonUtc(end)} timed out after ${ctx.options.request_timeout_in_seconds} seconds; splitting it in two`);
    const first = await fetchSplitting(ctx, fetchSlot, start, middle);
    const second = await fetchSplitting(ctx, fetchSlot, middle, end);
    return first.concat(second);
  }
}

/** How often the manual's "Number of processed time slots so far" line appears. */
const PROGRESS_EVERY = 12;

/** Python's `str(datetime)` with a UTC offset, as the manual's log lines print slot bounds. */
export function pythonUtc(date: Date): string {
  const iso = date.toISOString();
  const ms = date.getUTCMilliseconds();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}+00:00`;
}

/** `2023-03-27T10:52:12.289000+00:00`, Python's `isoformat()` of an aware datetime. */
function pythonIso(date: Date): string {
  return `${date.toISOString().slice(0, 19)}.${String(date.getUTCMilliseconds() * 1000).padStart(6, '0')}+00:00`;
}

/**
 * Darktrace's window policy: the first cycle starts at the configured start; later cycles start at the
 * checkpoint and first re-read the `lookback_in_minutes` before it in ONE request (it was read before, slot by
 * slot; a re-read that times out is split like any slot), so a one-day look-back costs one request a cycle,
 * not 24. Without a configured start the look-back is never clamped: a long outage must not skip data.
 */
export function slotPolicy(options: TimeSlotOptions, now: Date): WindowPolicy<SlotCheckpoint> {
  const configured = configuredStart(options, now);
  return {
    initialStart: configured,
    floor: options.start_time_in_utc_format ? configured : undefined,
    resumeAt: slotCheckpointTime,
    checkpointAt: (end) => ({ slot_end: end.toISOString() }),
    lookbackMs: options.lookback_in_minutes * 60_000,
    lookbackMode: 'reread',
    maxSpanMs: options.override_time_window_interval_in_minutes * 60_000,
    delayMs: options.override_time_delay_in_seconds * 1000,
  };
}

/**
 * The manual's time-slot pulling on the SDK's window engine: [start, now - delay) cut into slots of
 * `override_time_window_interval_in_minutes`, one request a slot, a checkpoint after each slot, preceded
 * (after the first cycle) by the re-read of the look-back, so that records Darktrace creates or changes
 * late are caught; the service's dedup key decides what of a re-read is new. `after` runs once the slots
 * are done (a snapshot read that belongs to the same cycle).
 */
export async function* pullTimeSlots<Event>(
  ctx: PullContext<DarktraceClient, TimeSlotOptions>,
  checkpoint: SlotCheckpoint | undefined | null,
  fetchSlot: (start: Date, end: Date, attempt: FetchAttempt) => Promise<Event[]>,
  after?: () => Promise<Event[]>,
): AsyncGenerator<PullBatch<SlotCheckpoint>> {
  const now = ctx.now();
  ctx.log.info(`Starting a new pulling from darktrace at "${pythonIso(now)}"`);
  let total = 0;
  let processed = 0;
  const policy: WindowPolicy<SlotCheckpoint> = {
    ...slotPolicy(ctx.options, now),
    planned: (plan) => {
      total = plan.windows.length + (plan.reread ? 1 : 0);
      ctx.log.info(`Total number of time slots to be processed: ${total}`);
    },
    lines: {
      summary: (slot, counts) => `Number of events received for time slot >> ${pythonUtc(slot.start)} - ${pythonUtc(slot.end)} is: ${counts.received}`,
      committed: () => (++processed % PROGRESS_EVERY === 0 && processed < total ? [`Number of processed time slots so far: ${processed}`] : []),
    },
  };
  yield* pullWindows(ctx, checkpoint, policy, async function* (slot) {
    // Moved into a new array: the one the fetch made is also held by the promises of the fetch (`getRecords`',
    // `fetchSlot`'s, `fetchSplitting`'s), made before the answer and perhaps promoted while it waited; an old
    // holder keeps what it points at alive through every scavenge until a full collection, so the page's text
    // would be promoted once garbage. Emptied, they hold nothing.
    const page = await fetchSplitting(ctx, fetchSlot, slot.start, slot.end);
    yield page.splice(0);
  });
  if (ctx.signal.aborted) return;
  if (after) yield { events: await after() };
  ctx.log.info('The data is up to date!');
}
