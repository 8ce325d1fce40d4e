import { sleep, type InputConfig, type RequestBudget } from '@collector/sdk';
import { PROOFPOINT_DEFAULTS, PROOFPOINT_LIMITS, type ProofpointServiceOptions } from './config.js';

/**
 * Request planning against Proofpoint's budget (1800 requests per rolling 24 h per pool). The SDK's
 * persisted rate limiter (read here as a RequestBudget) counts every request of every service of the input,
 * across restarts; this module decides how much of what is free a catch-up may take, so that:
 * - the regular pulls of every service in the pool always find room (a reserve is kept for them),
 * - a long catch-up is spaced out as old requests leave the window, instead of running into 429,
 * - the operator is told when the service expects to be current.
 */

const DAY = 86_400_000;

/** The longest window of a pool: the budget that matters for planning (1800 per 24 h by default). */
export interface PoolBudget {
  limit: number;
  periodMs: number;
}

export function poolBudget(limiter: RequestBudget | undefined): PoolBudget | undefined {
  const limits = limiter?.limits ?? [];
  const longest = limits.at(-1);
  return longest && longest.limit >= 0 ? { limit: longest.limit, periodMs: longest.periodMs } : undefined;
}

/**
 * Requests one regular pull of a service makes. The previous pull reached now − delay and the next one
 * starts at (previous pull − look-back), so its window is period + max(0, look-back − delay) long: the
 * look-back is free as long as that stays within one hour.
 */
export function requestsPerPull(options: ProofpointServiceOptions): number {
  const period = options.request_period_in_seconds ?? PROOFPOINT_DEFAULTS.requestPeriodSeconds;
  const lookback = options.lookback_in_seconds ?? PROOFPOINT_DEFAULTS.lookbackSeconds;
  const delay = options.override_time_delay_in_seconds ?? PROOFPOINT_DEFAULTS.timeDelaySeconds;
  return Math.max(1, Math.ceil(((period + Math.max(0, lookback - delay)) * 1000) / PROOFPOINT_LIMITS.maxWindowMs));
}

/** What the regular pulls of the given services need in one budget period. */
export function steadyNeed(services: Record<string, ProofpointServiceOptions>, periodMs: number): number {
  let need = 0;
  for (const options of Object.values(services)) {
    const period = Math.max(1, options.request_period_in_seconds ?? PROOFPOINT_DEFAULTS.requestPeriodSeconds) * 1000;
    need += Math.ceil(periodMs / period) * requestsPerPull(options);
  }
  return need;
}

/** The configured services of the input that spend the given pool. */
export function servicesInPool(input: InputConfig, pool: string, poolOf: (service: string) => string | undefined): Record<string, ProofpointServiceOptions> {
  const configured = input.services ?? { messagesBlocked: {}, messagesDelivered: {}, clicksBlocked: {}, clicksPermitted: {}, threats: {} };
  const out: Record<string, ProofpointServiceOptions> = {};
  for (const [name, options] of Object.entries(configured)) if (poolOf(name) === pool) out[name] = (options ?? {}) as ProofpointServiceOptions;
  return out;
}

/**
 * The part of the budget kept for regular pulls: what they need in a period, but never more than half the
 * budget, so a catch-up always makes progress.
 */
export function reserveFor(budget: PoolBudget, need: number): number {
  return Math.min(need, Math.floor(budget.limit / 2));
}

/**
 * Slack against clock differences with Proofpoint: our timestamp is taken before the request leaves, the
 * server's after it arrives, so a slot is reused only a little after it left our window.
 */
export function safetyMs(budget: PoolBudget): number {
  return Math.min(5_000, Math.floor(budget.periodMs * 0.05));
}

/**
 * Whether one request fits in the pool now (with the safety slack), without waiting: for requests that
 * must not hold a pull up for hours when their pool is spent (the Forensics API's 50 a day).
 */
export function hasRoomNow(limiter: RequestBudget | undefined): boolean {
  const budget = poolBudget(limiter);
  return !limiter || !budget || limiter.waitFor(1, Date.now() - safetyMs(budget)) <= 0;
}

/**
 * Waits until `count` requests fit in the pool (with the safety slack): 1 for a regular pull, reserve + 1
 * for a catch-up request, so that catching up never eats the reserve. Returns false when stopped.
 */
export async function waitForRoom(
  limiter: RequestBudget,
  budget: PoolBudget,
  count: number,
  signal: AbortSignal,
  onLongWait?: (until: Date) => void,
): Promise<boolean> {
  const slack = safetyMs(budget);
  let told = false;
  for (;;) {
    if (signal.aborted) return false;
    let wait = limiter.waitFor(count, Date.now() - slack);
    if (!Number.isFinite(wait)) wait = limiter.waitFor(1, Date.now() - slack);
    if (!Number.isFinite(wait) || wait <= 0) return true;
    // Say so once when the wait is long enough to look like a hang.
    if (!told && wait >= 10_000) onLongWait?.(new Date(Date.now() + wait));
    told ||= wait >= 10_000;
    await sleep(wait, signal);
  }
}

/**
 * When `requests` more catch-up requests will have been made, if each may only use a slot beyond the
 * reserve: slots free now first, then one slot each time an old request leaves the window.
 */
export function estimateDone(limiter: RequestBudget, budget: PoolBudget, reserve: number, requests: number, now = Date.now()): number {
  const inWindow = limiter.recorded.filter((t) => t > now - budget.periodMs).sort((a, b) => a - b);
  const usable = budget.limit - reserve;
  if (usable <= 0) return Number.POSITIVE_INFINITY;
  const freeNow = usable - inWindow.length;
  if (requests <= freeNow) return now;
  // The k-th request beyond what is free now waits for the k-th oldest request (after any deficit) to leave.
  const index = requests - Math.max(0, freeNow) - 1 + Math.max(0, -freeNow);
  if (index < inWindow.length) return inWindow[index]! + budget.periodMs + safetyMs(budget);
  const beyond = index - inWindow.length + 1;
  return now + budget.periodMs * Math.ceil(beyond / usable);
}

export function describePeriod(ms: number): string {
  if (ms % DAY === 0) return ms === DAY ? '24 h' : `${ms / DAY} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
