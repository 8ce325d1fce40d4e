import { createHash } from 'node:crypto';
import { defineService, formatUtc, parseConfigTime, type PullContext, type ServiceDefinition } from '@collector/sdk';
import { fetchSiemWindow, type ProofpointClient } from '../client.js';
import { PROOFPOINT_DEFAULTS, PROOFPOINT_LIMITS, proofpointBaseUrl, serviceOptionsSchema, type ProofpointServiceOptions } from '../config.js';
import { START_TIME_CLAMPED_WARNING, proofpointErrors } from '../errors.js';
import {
  describePeriod,
  estimateDone,
  poolBudget,
  requestsPerPull,
  reserveFor,
  servicesInPool,
  steadyNeed,
  waitForRoom,
  type PoolBudget,
} from '../budget.js';

/**
 * Where a service stands: `cursor` is the end of the last fully pulled window (Proofpoint's `queryEndTime`),
 * `queried_at` when that window was asked for. Events created before `queried_at − look-back` were surely
 * indexed then; the next pull re-reads from there (if that is before the cursor) and dedup drops repeats.
 */
export interface SiemCheckpoint {
  cursor: string;
  queried_at: string;
  [key: string]: string;
}

export interface SiemEndpoint {
  /** The service name in config.yaml, also the array in Proofpoint's answer. */
  name: 'messagesBlocked' | 'messagesDelivered' | 'clicksBlocked' | 'clicksPermitted';
  path: string;
  /** The request pool: `clicks/permitted` has its own 1800, the other three share `default`. */
  pool: 'default' | 'clicksPermitted';
  tag: string;
}

const HOUR = 3_600_000;

/** Pools whose arithmetic this process already logged (once per pool, not once per service). */
const describedPools = new WeakSet<object>();

/** Which pool a configured service spends (undefined for unknown services). */
export function poolOfService(service: string): 'default' | 'clicksPermitted' | undefined {
  if (service === 'clicksPermitted') return 'clicksPermitted';
  if (service === 'messagesBlocked' || service === 'messagesDelivered' || service === 'clicksBlocked') return 'default';
  return undefined;
}

/** The manual's time format in "Time Window FROM: ... TO: ..." (Python's str() of an aware datetime). */
export function windowTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}+00:00`;
}

/**
 * A record's identity: a digest of the whole record as Proofpoint sent it. Records of one message to
 * several recipients share GUID and messageTime but differ in `recipient` and `id`, so they never collide
 * (Elastic's GUID+time fingerprint dropped them); a record re-read through the look-back is the same
 * record (whatever its key order) and is dropped. 96 bits: no collision in any dedup window.
 */
export function siemDedupKey(event: unknown): string {
  return createHash('sha256').update(canonicalJson(event)).digest('base64url').slice(0, 16);
}

/**
 * JSON with object keys sorted at every level, so a record re-serialised in another key order is the same.
 * Built by appending to one string (no array per object): it runs once per event (docs/benchmarks.md).
 */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const field = record[key];
    if (field === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(field)}`;
  }
  return `${out}}`;
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function resolved(options: ProofpointServiceOptions) {
  return {
    lookbackMs: (options.lookback_in_seconds ?? PROOFPOINT_DEFAULTS.lookbackSeconds) * 1000,
    delayMs: (options.override_time_delay_in_seconds ?? PROOFPOINT_DEFAULTS.timeDelaySeconds) * 1000,
    baseUrl: proofpointBaseUrl(options),
  };
}

/** Logs what the budget of this service's pool allows (once, at init). */
function describeBudget(ctx: { input: PullContext<unknown, unknown>['input']; log: PullContext<unknown, unknown>['log'] }, endpoint: SiemEndpoint, budget: PoolBudget): void {
  const members = servicesInPool(ctx.input, endpoint.pool, poolOfService);
  const need = steadyNeed(members, budget.periodMs);
  const names = Object.keys(members).join(', ');
  const line = `Request budget of pool <${endpoint.pool}>: ${budget.limit} requests per ${describePeriod(budget.periodMs)}, shared by ${names}; their regular pulls need ${need}`;
  if (need > budget.limit) {
    ctx.log.warning(`${line}, more than the budget: pulls will be spaced out to fit. Raise request_period_in_seconds so that they fit`);
  } else {
    ctx.log.info(`${line}, ${budget.limit - reserveFor(budget, need)} are left for catching up`);
  }
}

export function siemService(endpoint: SiemEndpoint): ServiceDefinition<ProofpointClient, ProofpointServiceOptions, SiemCheckpoint> {
  return defineService<ProofpointClient, ProofpointServiceOptions, SiemCheckpoint>({
    tag: endpoint.tag,
    moduleName: 'ProofPointPuller',
    options: serviceOptionsSchema,
    requestPeriodSeconds: PROOFPOINT_DEFAULTS.requestPeriodSeconds,
    dedupKey: siemDedupKey,
    // The look-back re-reads up to ~35 min of events each pull; this many keys cover that with room to spare.
    dedupWindow: 50_000,
    resetKey: (options) => options.start_time_in_utc_format?.trim() || undefined,
    checkpointTime: (checkpoint) => (checkpoint?.cursor ? new Date(checkpoint.cursor) : undefined),

    init(ctx) {
      const value = ctx.options.start_time_in_utc_format;
      if (value !== undefined && value !== null && String(value).trim() !== '') {
        const start = parseConfigTime(String(value));
        const path = `${ctx.path}.start_time_in_utc_format`;
        if (!start) throw proofpointErrors.startTimeMalformed(String(value), path);
        if (start.getTime() > ctx.now().getTime()) throw proofpointErrors.startTimeInFuture(String(value), path);
      }
      const base = ctx.options.override_base_url;
      if (base !== undefined) {
        let ok = false;
        try {
          ok = /^https?:$/.test(new URL(base).protocol);
        } catch {
          ok = false;
        }
        if (!ok) throw proofpointErrors.baseUrlInvalid(String(base), `${ctx.path}.override_base_url`);
      }
      const perPull = requestsPerPull(ctx.options);
      if (perPull > 1) {
        ctx.log.warning(
          `request_period_in_seconds + lookback_in_seconds - override_time_delay_in_seconds exceed one hour: every regular pull costs ${perPull} requests (see the README, "Request budget")`,
        );
      }
    },

    async probe(ctx) {
      const end = floorToSecond(Date.now() - resolved(ctx.options).delayMs);
      await fetchSiemWindow(ctx.http, ctx.client, {
        baseUrl: resolved(ctx.options).baseUrl,
        path: endpoint.path,
        arrayKey: endpoint.name,
        pool: endpoint.pool,
        start: new Date(end - PROOFPOINT_LIMITS.minWindowMs),
        end: new Date(end),
      });
    },

    async *pull(ctx, checkpoint) {
      const { lookbackMs, delayMs, baseUrl } = resolved(ctx.options);
      const now = floorToSecond(ctx.now().getTime());
      const configured = parseConfigTime(ctx.options.start_time_in_utc_format ?? '');
      const floor = () => floorToSecond(Date.now() - PROOFPOINT_LIMITS.maxLookbackMs + PROOFPOINT_LIMITS.lookbackSafetyMs);

      let from: number;
      if (!checkpoint?.cursor) {
        from = configured ? configured.getTime() : now - PROOFPOINT_DEFAULTS.initialLookbackHours * HOUR;
        if (from < floor()) {
          ctx.log.warning(START_TIME_CLAMPED_WARNING);
          from = floor();
        }
      } else {
        const cursor = Date.parse(checkpoint.cursor);
        const queriedAt = Date.parse(checkpoint.queried_at ?? checkpoint.cursor);
        // Re-read what may have been indexed after it was asked for; never before the configured start.
        from = Math.min(cursor, queriedAt - lookbackMs);
        if (configured) from = Math.max(from, configured.getTime());
        if (from < floor()) {
          if (cursor < floor()) {
            ctx.log.warning(
              `Proofpoint keeps 7 days: events created from ${windowTime(new Date(cursor))} to ${windowTime(new Date(floor()))} can no longer be fetched; continuing from ${windowTime(new Date(floor()))}`,
            );
          }
          from = floor();
        }
      }
      from = floorToSecond(from);
      const until = now - delayMs;
      if (until - from < PROOFPOINT_LIMITS.minWindowMs) {
        ctx.log.debug(`Up to date: the next window would be shorter than ${PROOFPOINT_LIMITS.minWindowMs / 1000} s`);
        return;
      }

      const limiter = ctx.http.limiter(endpoint.pool);
      const budget = poolBudget(limiter);
      const windows = Math.ceil((until - from) / PROOFPOINT_LIMITS.maxWindowMs);
      let reserve = 0;
      if (limiter && budget) {
        if (!describedPools.has(limiter)) {
          describedPools.add(limiter);
          describeBudget(ctx, endpoint, budget);
        }
        reserve = reserveFor(budget, steadyNeed(servicesInPool(ctx.input, endpoint.pool, poolOfService), budget.periodMs));
        const free = limiter.remaining();
        if (windows > 1 && windows > free - reserve) {
          const eta = estimateDone(limiter, budget, reserve, windows);
          ctx.log.warning(
            `Catching up from ${windowTime(new Date(from))} needs ${windows} requests, but pool <${endpoint.pool}> has ${Math.max(0, free)} of ${budget.limit} requests per ${describePeriod(budget.periodMs)} left ` +
              `and keeps ${reserve} for the regular pulls: spacing the requests as older ones leave the window; expected to be current at about ${Number.isFinite(eta) ? formatUtc(new Date(eta)) : 'an unknown time (the reserve takes the whole budget)'}`,
          );
        }
      }

      let index = 0;
      while (from < until) {
        if (ctx.signal.aborted) return;
        // A catch-up that waited for budget may have slid past Proofpoint's 7 days.
        if (from < floor()) {
          ctx.log.warning(`Proofpoint keeps 7 days: events created from ${windowTime(new Date(from))} to ${windowTime(new Date(floor()))} can no longer be fetched`);
          from = floor();
          if (until - from < PROOFPOINT_LIMITS.minWindowMs) return;
        }
        const end = Math.min(from + PROOFPOINT_LIMITS.maxWindowMs, until);
        // Proofpoint refuses intervals under 30 s: a short last window starts earlier (dedup drops the overlap).
        const start = Math.max(Math.min(from, end - PROOFPOINT_LIMITS.minWindowMs), floor());
        if (limiter && budget) {
          // The first request of a pull is a regular one; the rest are catch-up and leave the reserve alone.
          const room = await waitForRoom(limiter, budget, index === 0 ? 1 : reserve + 1, ctx.signal, (at) =>
            ctx.log.info(`Request budget of pool <${endpoint.pool}> is in use: the next request goes at ${formatUtc(at)}, when an older request leaves the ${describePeriod(budget.periodMs)} window`),
          );
          if (!room) return;
        }
        index++;
        ctx.log.info(`Time Window FROM: ${windowTime(new Date(start))} TO: ${windowTime(new Date(end))}`);
        const queriedAt = Date.now();
        let result;
        try {
          result = await fetchSiemWindow(ctx.http, ctx.client, { baseUrl, path: endpoint.path, arrayKey: endpoint.name, pool: endpoint.pool, start: new Date(start), end: new Date(end) });
        } catch (error) {
          // Stopping interrupts a request (or its retry wait): not an error, the window is pulled next time.
          if (ctx.signal.aborted) return;
          throw error;
        }
        if (limiter && budget) ctx.metrics.gauge('proofpoint_requests_remaining', Math.max(0, limiter.remaining()));
        // Proofpoint's queryEndTime is the cursor; it never moves us past what we asked for, nor back before it.
        const reported = result.queryEndTime?.getTime();
        const reached = reported === undefined ? end : Math.min(end, Math.max(start, floorToSecond(reported)));
        yield { events: result.events, checkpoint: { cursor: formatUtc(new Date(reached)), queried_at: new Date(queriedAt).toISOString() } };
        // How far behind now the service is, in one-hour windows still to pull (0 when current).
        ctx.metrics.gauge('proofpoint_windows_behind', Math.max(0, Math.ceil((until - reached - PROOFPOINT_LIMITS.minWindowMs) / PROOFPOINT_LIMITS.maxWindowMs)));
        if (reached < end) {
          ctx.log.info(`Proofpoint answered up to ${windowTime(new Date(reached))} only (queryEndTime); the next pull continues from there`);
          return;
        }
        from = end;
      }
    },
  });
}
