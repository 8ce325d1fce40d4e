import type { PullBatch } from './definitions.js';
import { cutoverStart, timeWindows, type TimeWindow } from './time-windows.js';

/**
 * How a time-window service resumes and slices: the vendor declares it, the SDK computes where each pull
 * starts, cuts the span into windows and commits after each window, so no vendor writes that arithmetic.
 */
export interface WindowPolicy<Checkpoint> {
  /** Where the very first pull starts: the configured start time, or the vendor's default back-fill. */
  initialStart: Date;
  /** The instant a checkpoint stands for (the end of the last delivered window); undefined if unreadable. */
  resumeAt(checkpoint: Checkpoint): Date | undefined;
  /** The checkpoint to commit once every event of the windows up to `end` was delivered. */
  checkpointAt(end: Date): Checkpoint;
  /** How far before the checkpoint a pull reads again, for records the vendor makes visible late. */
  lookbackMs?: number;
  /**
   * `overlap` (default): the pull starts `lookbackMs` before the checkpoint and that span is sliced like any
   * other. `reread`: the look-back is read again as ONE window (for APIs where a window is a request and a
   * look-back of a day would otherwise cost 24), then new windows start at the checkpoint.
   */
  lookbackMode?: 'overlap' | 'reread';
  /**
   * The instant the look-back is measured back from (default: `resumeAt`), for vendors that remember when a
   * window was asked for: what was created before "asked − look-back" was surely indexed by then.
   */
  lookbackFrom?(checkpoint: Checkpoint): Date | undefined;
  /** The look-back never reaches before this instant (the configured start time). */
  floor?: Date | undefined;
  /**
   * The oldest instant the vendor still has or accepts, measured back from now (e.g. "7 days"): every start
   * (initial, `--start-at`, checkpoint, look-back) is moved up to it. Unlike `floor` it moves with the clock.
   */
  historicFloor?(now: Date): Date;
  /**
   * Called when a start was moved up to the historic floor, before the plan is returned: the vendor says in
   * its own words what is no longer collected (events between `wanted` and `floor`).
   */
  onClamp?(clamp: WindowClamp): void;
  /** The widest window the vendor accepts or that keeps an answer small. */
  maxSpanMs: number;
  /** A span shorter than this waits for the next cycle. Default 1 s. */
  minSpanMs?: number;
  /** How far behind now a window may end, so that late-indexed records are in place. */
  delayMs?: number;
  /** Window bounds are rounded down to a multiple of this (1000 for APIs that take epoch seconds). */
  alignMs?: number;
  /** Only windows of exactly `maxSpanMs`: a shorter rest waits for a later cycle (fixed-size pipelines). */
  wholeWindows?: boolean;
}

/** A start moved up to the historic floor. */
export interface WindowClamp {
  /** Where the start came from: the vendor's initial start, `--start-at`, or a checkpoint (with its look-back). */
  source: 'initial' | 'start-at' | 'checkpoint';
  /** The start before clamping. */
  wanted: Date;
  /** Where the pull starts instead. */
  floor: Date;
  /** With a checkpoint: the instant it stands for (a look-back cut short loses nothing; a checkpoint older than the floor does). */
  resumed?: Date;
}

export interface WindowPlan {
  /** Where this pull starts (after look-back, floors and alignment), whether or not a window is due. */
  start: Date;
  /** What the start came from: a readable checkpoint, `--start-at`, or the vendor's initial start. */
  source: WindowClamp['source'];
  /** The look-back read again as one window (`reread` mode), if any. */
  reread?: TimeWindow;
  /** New windows, oldest first. */
  windows: TimeWindow[];
}

const align = (ms: number, step: number | undefined) => (step ? Math.floor(ms / step) * step : ms);

/** The policy's historic floor at `now`, aligned (epoch ms; -Infinity without one), for loops that wait between windows. */
export function historicFloorAt(policy: Pick<WindowPolicy<unknown>, 'historicFloor' | 'alignMs'>, now: Date): number {
  return policy.historicFloor ? align(policy.historicFloor(now).getTime(), policy.alignMs) : Number.NEGATIVE_INFINITY;
}

/**
 * The windows of one pull: where it starts (checkpoint, look-back, floor; without a checkpoint `--start-at`
 * minus the look-back, else the initial start) and how it is cut.
 */
export function planWindows<Checkpoint>(policy: WindowPolicy<Checkpoint>, checkpoint: Checkpoint | null | undefined, now: Date, startAt?: Date): WindowPlan {
  const resumed = checkpoint === null || checkpoint === undefined ? undefined : policy.resumeAt(checkpoint);
  const lookback = resumed ? (policy.lookbackMs ?? 0) : 0;
  const floor = policy.floor?.getTime() ?? Number.NEGATIVE_INFINITY;
  const historic = historicFloorAt(policy, now);
  const reread = policy.lookbackMode === 'reread';
  const cutover = cutoverStart({ startAt }, policy.lookbackMs ?? 0);
  let from = resumed ? resumed.getTime() : (cutover ?? policy.initialStart).getTime();
  let rereadWindow: TimeWindow | undefined;
  if (resumed && lookback > 0) {
    const base = (checkpoint !== null && checkpoint !== undefined ? policy.lookbackFrom?.(checkpoint) : undefined) ?? resumed;
    const back = align(Math.max(floor, base.getTime() - lookback), policy.alignMs);
    if (reread && back < from) rereadWindow = { start: new Date(Math.max(back, historic)), end: new Date(from), index: 0, total: 0 };
    else from = Math.min(from, back);
  }
  const source = resumed ? 'checkpoint' : cutover ? 'start-at' : 'initial';
  if (from < historic) {
    policy.onClamp?.({ source, wanted: new Date(from), floor: new Date(historic), ...(resumed ? { resumed } : {}) });
    from = historic;
  }
  if (rereadWindow && rereadWindow.start.getTime() >= rereadWindow.end.getTime()) rereadWindow = undefined;
  const start = new Date(align(from, policy.alignMs));
  const windows = [
    ...timeWindows({
      from: start,
      maxSpanMs: policy.maxSpanMs,
      delayMs: policy.delayMs ?? 0,
      ...(policy.minSpanMs === undefined ? {} : { minSpanMs: policy.minSpanMs }),
      ...(policy.wholeWindows ? { wholeWindows: true } : {}),
      now: new Date(align(now.getTime(), policy.alignMs)),
    }),
  ];
  return { start, source, ...(rereadWindow ? { reread: rereadWindow } : {}), windows };
}

/**
 * Runs a windowed pull: `fetch(window)` yields the pages of one window; the SDK yields them as batches and
 * the window's checkpoint after its last page, so a window is committed only once all its events were
 * delivered, and a crash inside a window reads that window again (dedup drops what was sent). A re-read of
 * the look-back commits nothing new: its end is the checkpoint already committed.
 */
export async function* pullWindows<Checkpoint, Event>(
  ctx: { now(): Date; signal: AbortSignal; startAt?: Date | undefined },
  checkpoint: Checkpoint | null | undefined,
  policy: WindowPolicy<Checkpoint>,
  fetch: (window: TimeWindow) => AsyncIterable<readonly Event[]>,
  plan: WindowPlan = planWindows(policy, checkpoint, ctx.now(), ctx.startAt),
): AsyncGenerator<PullBatch<Checkpoint>> {
  const all = [...(plan.reread ? [plan.reread] : []), ...plan.windows];
  for (const window of all) {
    if (ctx.signal.aborted) return;
    // Every page goes to delivery at once (a later page's failure must not hold back the earlier ones); the
    // checkpoint follows the window's last page.
    for await (const page of fetch(window)) if (page.length > 0) yield { events: page };
    yield { events: [], checkpoint: policy.checkpointAt(window.end) };
  }
}
