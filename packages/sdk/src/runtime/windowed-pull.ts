import { getHeapSpaceStatistics } from 'node:v8';
import type { PullBatch, PullCounts } from './definitions.js';
import { exposedGc } from './exposed-gc.js';
import { cutoverStart, timeWindows, type TimeWindow } from './time-windows.js';

/**
 * How a time-window service resumes and slices, and what it does and says around each window: the vendor
 * declares it, the SDK computes where each pull starts, cuts the span into windows, runs them and commits
 * after each window, so no vendor writes that arithmetic or loop.
 */
export interface WindowPolicy<Checkpoint> {
  /** Where the very first pull starts: the configured start time, or the vendor's default back-fill. */
  initialStart: Date;
  /** The instant a checkpoint stands for (the end of the last delivered window); undefined if unreadable. */
  resumeAt(checkpoint: Checkpoint): Date | undefined;
  /**
   * The checkpoint to commit once every event of the windows up to `end` was delivered; `askedAt` is when
   * the window's first request was about to leave (for vendors whose look-back is measured from it).
   */
  checkpointAt(end: Date, askedAt: Date): Checkpoint;
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
  /**
   * For APIs that refuse intervals shorter than `minSpanMs`: a shorter window (the rest after whole ones)
   * starts earlier so that it is that long; dedup drops what the overlap reads twice.
   */
  stretchToMinSpan?: boolean;
  /**
   * A pull without a readable checkpoint commits where it starts before it reads anything, so a restart
   * before its first window is complete resumes there instead of at a later initial start (e.g. "now − delay").
   */
  pinStart?: boolean;
  /**
   * Runs before each window's request (e.g. waits for room in a request budget); `fetched` counts the
   * windows this pull has fetched so far. `false` ends the pull there. Since it may wait, the historic floor
   * is checked again after it: a window whose start the floor passed meanwhile starts at the floor
   * (`onClamp` with source `window`), and one with less than `minSpanMs` left is skipped.
   */
  beforeWindow?(window: TimeWindow, fetched: number): boolean | Promise<boolean>;
  /** Told the plan before any window is read (also when none is due): e.g. to warn that a catch-up will be slow. */
  planned?(plan: WindowPlan): void;
  /** Runs after a window was committed, with how far it got (its end, or less when the source stopped short). */
  afterWindow?(window: TimeWindow, reached: Date): void;
  /** The service's log lines around its windows, as its manual prints them (logged at info). */
  lines?: WindowLines<Checkpoint>;
}

/**
 * Log lines a service declares for its windows (operators grep for them, so they are the manual's words).
 * Each returns the line, or undefined for none.
 */
export interface WindowLines<Checkpoint> {
  /** Before a window's first request, e.g. Proofpoint's `Time Window FROM: … TO: …`. */
  window?(window: TimeWindow): string | undefined;
  /**
   * Once a window was committed, with its share of the pull's counters (requests, received, duplicates,
   * sent; zeros where the context keeps no counters), e.g. Microsoft 365's `Pull Summary: …`.
   */
  summary?(window: TimeWindow, counts: PullCounts, end: WindowEnd): string | undefined;
  /** After the summary, with the committed checkpoint, e.g. `Savepoint reached: …`. */
  committed?(checkpoint: Checkpoint, window: TimeWindow): readonly string[];
  /** When `pinStart` commits a first start, before it is committed. */
  pinned?(checkpoint: Checkpoint): string | undefined;
  /** When every due window was read (not after a stop, nor when the source stopped short). */
  upToDate?: string;
}

/** What a window's `fetch` may return when it is done (its generator's return value). */
export interface WindowEnd {
  /**
   * The source answered only up to here (e.g. Proofpoint's `queryEndTime`): the checkpoint stands for this
   * instant and the pull ends, the next one continues from there.
   */
  reached?: Date;
  /** A stop left part of the window unread (the fetch returned early): nothing is committed for it. */
  unfinished?: boolean;
  /** What the service adds to its `summary` line about this window. */
  note?: string;
}

/** A start moved up to the historic floor. */
export interface WindowClamp {
  /**
   * Where the start came from: the vendor's initial start, `--start-at`, a checkpoint (with its look-back),
   * or a planned window the floor passed while `beforeWindow` waited.
   */
  source: 'initial' | 'start-at' | 'checkpoint' | 'window';
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
  source: Exclude<WindowClamp['source'], 'window'>;
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

const NO_COUNTS: PullCounts = { requests: 0, received: 0, duplicates: 0, sent: 0 };

/** What the engine needs of a pull context (a `PullContext` has it all). */
export interface WindowContext {
  now(): Date;
  signal: AbortSignal;
  startAt?: Date | undefined;
  log?: { info(message: string): void };
  /** The pull's running counters, for the per-window `summary` line. */
  stats?: Readonly<PullCounts>;
}

/**
 * Runs a windowed pull: `fetch(window)` yields the pages of one window; the SDK yields them as batches and
 * the window's checkpoint after its last page, so a window is committed only once all its events were
 * delivered, and a crash inside a window reads that window again (dedup drops what was sent). A re-read of
 * the look-back commits nothing new: its end is the checkpoint already committed. A fetch may end a
 * window early (`WindowEnd`); a fetch that fails because the pull was stopped ends the pull quietly (the
 * window is read again next time).
 */
export async function* pullWindows<Checkpoint, Event>(
  ctx: WindowContext,
  checkpoint: Checkpoint | null | undefined,
  policy: WindowPolicy<Checkpoint>,
  fetch: (window: TimeWindow) => AsyncGenerator<readonly Event[], WindowEnd | void> | AsyncIterable<readonly Event[]>,
  plan: WindowPlan = planWindows(policy, checkpoint, ctx.now(), ctx.startAt),
): AsyncGenerator<PullBatch<Checkpoint>> {
  const lines = policy.lines ?? {};
  const say = (line: string | undefined) => {
    if (line !== undefined) ctx.log?.info(line);
  };
  if (policy.pinStart && plan.source !== 'checkpoint') {
    const pinned = policy.checkpointAt(new Date(plan.start.getTime() + (policy.lookbackMs ?? 0)), ctx.now());
    say(lines.pinned?.(pinned));
    yield { events: [], checkpoint: pinned };
  }
  policy.planned?.(plan);
  const minSpan = policy.minSpanMs ?? 1000;
  let fetched = 0;
  let clampedUpTo = Number.NEGATIVE_INFINITY;
  for (const planned of [...(plan.reread ? [plan.reread] : []), ...plan.windows]) {
    if (ctx.signal.aborted) return;
    let window = planned;
    if (policy.beforeWindow) {
      if (!(await policy.beforeWindow(window, fetched)) || ctx.signal.aborted) return;
      // The wait may have let the historic floor pass this window's start.
      const floor = historicFloorAt(policy, ctx.now());
      if (window.start.getTime() < floor && window.start.getTime() >= clampedUpTo) {
        clampedUpTo = floor;
        policy.onClamp?.({ source: 'window', wanted: window.start, floor: new Date(floor) });
      }
      if (window.end.getTime() - floor < minSpan) continue;
      if (window.start.getTime() < floor) window = { ...window, start: new Date(floor) };
    }
    if (policy.stretchToMinSpan && window.end.getTime() - window.start.getTime() < minSpan) {
      window = { ...window, start: new Date(window.end.getTime() - minSpan) };
    }
    fetched++;
    say(lines.window?.(window));
    const before = { ...(ctx.stats ?? NO_COUNTS) };
    const askedAt = ctx.now();
    let end: WindowEnd | undefined;
    // Read by hand (not for-await) to get the fetch's return value; closed in `finally` if left early.
    const pages = fetch(window)[Symbol.asyncIterator]();
    const handing: { page?: readonly Event[] | undefined } = {};
    try {
      while (!end) {
        let next: IteratorResult<readonly Event[], WindowEnd | void> | undefined = await pages.next();
        if (next.done) end = next.value ?? {};
        else if (next.value.length > 0) {
          // A suspended generator keeps its variables: the page must not sit in one while the runner waits for
          // room in its queue, or while the next page is fetched and parsed (the runner has encoded it by then).
          handing.page = next.value;
          // Nor in the step itself: the promise `pages.next()` returned was made before the page was fetched
          // (V8 may have promoted it while the request waited) and holds this object, so the page would stay
          // alive through every scavenge until a full collection, and its text be promoted once garbage.
          Reflect.set(next, 'value', undefined);
          next = undefined;
          // Every page goes to delivery at once (a later page's failure must not hold back the earlier ones).
          yield { events: handOver(handing) };
          collectOldLargeGarbage();
        }
      }
    } catch (error) {
      // A stop interrupts a request (or its retry wait): not an error, the window is read again next time.
      if (ctx.signal.aborted) return;
      throw error;
    } finally {
      if (!end) await pages.return?.();
    }
    if (end.unfinished) return;
    const reached = end.reached && end.reached.getTime() < window.end.getTime() ? new Date(Math.max(window.start.getTime(), end.reached.getTime())) : window.end;
    const committed = policy.checkpointAt(reached, askedAt);
    yield { events: [], checkpoint: committed };
    // The runtime commits it once every event before it was acknowledged, while this generator goes on to
    // the next window: the lines below describe what was read (`sent` counts what was acknowledged so far).
    say(lines.summary?.(window, share(ctx.stats ?? NO_COUNTS, before), end));
    for (const line of lines.committed?.(committed, window) ?? []) say(line);
    policy.afterWindow?.(window, reached);
    if (reached.getTime() < window.end.getTime()) return;
  }
  if (!ctx.signal.aborted) say(lines.upToDate);
}

/**
 * The page a generator hands over, taken out of its holder ([] when it holds none): `yield handOver(holder)`
 * leaves the page in no variable of the suspended generator, which keeps its variables while the runner
 * queues the page and the next one is fetched. The SDK's window engine hands its pages over this way; a
 * service's `fetch` that keeps a page in a variable across a `yield` uses it too.
 */
export function handOver<Page extends readonly unknown[]>(holder: { page?: Page | undefined }): Page {
  // The holder's own array type (a mutable one stays mutable: a caller may move the page on, see Proofpoint).
  const page = holder.page ?? ([] as unknown as Page);
  holder.page = undefined;
  return page;
}

function share(now: Readonly<PullCounts>, before: PullCounts): PullCounts {
  return { requests: now.requests - before.requests, received: now.received - before.received, duplicates: now.duplicates - before.duplicates, sent: now.sent - before.sent };
}

/**
 * Old large objects allowed to pile up above what the last full collection left, before one between two pages.
 * 6 MiB until wave 13, when most promoted garbage here was page texts (a full collection every page or two at
 * 2.5 MiB: CPU +60 % for Proofpoint). Since the fetch's promoted promises no longer keep a page alive (http-client.ts,
 * `Answer`), what piles up is a few state saves' joined keys (0.4–0.8 MB each) and a text promoted mid-scan now and
 * then: 2 MiB bounds that garbage 4 MiB lower at a full collection or two more a 100,000-event pull
 * (Proofpoint's peak RSS −3 to −13 MiB in 3 of 3 pairs, docs/benchmarks.md, wave 13).
 */
const OLD_LARGE_GARBAGE_BYTES = 2 * 1024 * 1024;
let oldLargeFloor = 0;

/**
 * A full collection once the old large-object space has grown OLD_LARGE_GARBAGE_BYTES since the last one: the
 * texts of pages a scavenge promoted while they were scanned (1–3 MB each) are freed only by a full
 * collection, which V8 leaves for seconds in a pull (its limits look at the old generation as a whole and at
 * external memory over 64 MiB), so they were the largest garbage at the pulls' peak RSS. Called between two
 * pages, when the last one is encoded and the next is not asked yet: little is alive then.
 */
function collectOldLargeGarbage(): void {
  let size = 0;
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'large_object_space') size = space.space_size;
  if (size < oldLargeFloor + OLD_LARGE_GARBAGE_BYTES) {
    if (size < oldLargeFloor) oldLargeFloor = size;
    return;
  }
  const gc = exposedGc();
  if (!gc) return;
  gc({ type: 'major', execution: 'sync' });
  oldLargeFloor = 0;
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'large_object_space') oldLargeFloor = space.space_size;
}

