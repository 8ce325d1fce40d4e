import { sleep } from '../runtime/abortable-sleep.js';
import { Semaphore } from './semaphore.js';
import type { RequestsLimit } from './requests-limit.js';
import type { RequestBudget } from './http-types.js';

export type { RequestsLimit } from './requests-limit.js';

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };
const HOUR_MS = 3_600_000;

/** `1d`, `1h`, `5m`, `30s`: a count and a unit (the DCSDK uses 1d/1h/1m/1s; Graph needs 5m). */
export function periodMs(period: string): number {
  const m = /^(\d+)([smhd])$/.exec(period);
  if (!m || Number(m[1]) === 0) throw new Error(`Unknown requests_limits period "${period}" (use e.g. 1d, 1h, 5m or 1s)`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Persists the timestamps of long windows, so a restart does not reset a daily budget. */
export interface RequestLog {
  load(): number[];
  save(timestamps: number[]): Promise<void>;
}

interface Window {
  ms: number;
  limit: number;
}

/**
 * Rolling-window request budgets (every `requests_limits` entry at once) behind a semaphore that bounds
 * concurrency (1 by default: one request of a pool at a time). Long windows (1 h and more) are persisted through `RequestLog` before each request is
 * made, so a kill -9 right after a request still counts it.
 */
export class RateLimiter implements RequestBudget {
  private readonly windows: Window[];
  private loadedTimestamps: number[] | undefined;
  private blockedUntil = 0;
  private readonly slots: Semaphore;
  private readonly persistent: boolean;

  constructor(
    limits: readonly RequestsLimit[],
    private readonly log?: RequestLog,
    maxConcurrent = 1,
    private readonly clock: () => number = Date.now,
  ) {
    this.windows = limits
      .filter((l) => l.number_of_requests >= 0)
      .map((l) => ({ ms: periodMs(l.period), limit: l.number_of_requests }))
      .sort((a, b) => a.ms - b.ms);
    this.persistent = this.windows.some((w) => w.ms >= HOUR_MS);
    this.slots = new Semaphore(maxConcurrent);
  }

  /**
   * Loaded on first use, not at construction: the runtime builds limiters before it reads the persisted
   * input state, and a budget read too early would restart at zero after every restart.
   */
  private get timestamps(): number[] {
    this.loadedTimestamps ??= this.persistent ? [...(this.log?.load() ?? [])].sort((a, b) => a - b) : [];
    return this.loadedTimestamps;
  }

  /** The configured windows, shortest first (for services that plan their requests). */
  get limits(): readonly { periodMs: number; limit: number }[] {
    return this.windows.map((w) => ({ periodMs: w.ms, limit: w.limit }));
  }

  private longest(): number {
    return this.windows.at(-1)?.ms ?? 0;
  }

  private prune(now: number): void {
    const horizon = now - this.longest();
    let drop = 0;
    while (drop < this.timestamps.length && this.timestamps[drop]! <= horizon) drop++;
    if (drop > 0) this.timestamps.splice(0, drop);
  }

  /** Milliseconds until `count` more requests fit in every window (0 when they fit now). */
  waitFor(count = 1, now = this.clock()): number {
    this.prune(now);
    let wait = Math.max(0, this.blockedUntil - now);
    for (const w of this.windows) {
      if (count > w.limit) return Number.POSITIVE_INFINITY;
      const inWindow = this.timestamps.filter((t) => t > now - w.ms);
      const excess = inWindow.length + count - w.limit;
      if (excess > 0) wait = Math.max(wait, inWindow[excess - 1]! + w.ms - now);
    }
    return wait;
  }

  /** Requests left in the tightest window right now. */
  remaining(now = this.clock()): number {
    this.prune(now);
    let left = Number.POSITIVE_INFINITY;
    for (const w of this.windows) left = Math.min(left, w.limit - this.timestamps.filter((t) => t > now - w.ms).length);
    return left;
  }

  /**
   * The vendor said 429 without saying for how long: wait until the oldest request we know of leaves the
   * longest window (Proofpoint's rule), or `fallbackMs` when we know of none.
   */
  blockAfterThrottle(fallbackMs: number, now = this.clock()): number {
    this.prune(now);
    const oldest = this.timestamps[0];
    const until = oldest !== undefined && this.persistent ? oldest + this.longest() : now + fallbackMs;
    this.blockedUntil = Math.max(this.blockedUntil, until);
    return this.blockedUntil - now;
  }

  blockFor(ms: number, now = this.clock()): void {
    this.blockedUntil = Math.max(this.blockedUntil, now + ms);
  }

  /** Runs `fn` once every window has room, counting it as one request. */
  async schedule<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.slots.run(async () => {
      for (;;) {
        const wait = this.waitFor(1);
        if (wait === 0) break;
        if (!Number.isFinite(wait)) throw new Error('requests_limits allow no request at all');
        await sleep(wait, signal);
        if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      }
      this.timestamps.push(this.clock());
      if (this.persistent && this.log) await this.log.save(this.timestamps);
      return fn();
    });
  }

  get recorded(): readonly number[] {
    return this.timestamps;
  }
}
