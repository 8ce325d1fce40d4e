import { hash } from 'node:crypto';
import { canonicalJson, defineService, formatUtc, handOver, JsonRecord, parseBaseUrl, parseConfigTime, pullWindows, recordField, type PullContext, type ServiceDefinition, type TimeWindow, type WindowEnd, type WindowPolicy } from '@collector/sdk';
import { fetchSiemWindow, type ProofpointClient } from '../client.js';
import { PROOFPOINT_DEFAULTS, PROOFPOINT_LIMITS, proofpointBaseUrl, serviceOptionsSchema, type ProofpointServiceOptions } from '../config.js';
import { START_TIME_CLAMPED_WARNING, proofpointErrors } from '../errors.js';
import type { JsonSchema, PullBatch } from '@collector/sdk';
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

export type SiemContext = PullContext<ProofpointClient, ProofpointServiceOptions>;

export interface SiemEndpoint {
  /** The service name in config.yaml (for the four SIEM services also the array in Proofpoint's answer). */
  name: 'messagesBlocked' | 'messagesDelivered' | 'clicksBlocked' | 'clicksPermitted' | 'threats';
  path: string;
  /** The arrays of the answer to read (default: `[name]`). */
  arrays?: readonly string[];
  /** The request pool: `clicks/permitted` has its own 1800, the other endpoints share `default`. */
  pool: 'default' | 'clicksPermitted';
  tag: string;
  /** The service's keys (default: the SIEM keys). */
  options?: JsonSchema;
  /** What a window's records become (default: themselves). Runs before the window's checkpoint is yielded. */
  toEvents?(ctx: SiemContext, records: Record<string, unknown>[]): Promise<unknown[]>;
  /** Runs after the windows of every pull (also when none was due): e.g. re-checks of what was read before. */
  afterWindows?(ctx: SiemContext): AsyncIterable<PullBatch<SiemCheckpoint>>;
  /** `--check`: what the service does with the records of its probe window. */
  probeRecords?(ctx: SiemContext, records: Record<string, unknown>[]): Promise<void>;
}

const HOUR = 3_600_000;

/** Which pool a configured service spends (undefined for unknown services). */
export function poolOfService(service: string): 'default' | 'clicksPermitted' | undefined {
  if (service === 'clicksPermitted') return 'clicksPermitted';
  if (service === 'messagesBlocked' || service === 'messagesDelivered' || service === 'clicksBlocked' || service === 'threats') return 'default';
  return undefined;
}

/** The manual's time format in "Time Window FROM: ... TO: ..." (Python's str() of an aware datetime). */
export function windowTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}+00:00`;
}

/**
 * What makes a SIEM record itself: Proofpoint's `GUID` (the message within PPS) and `id` (the unique id of
 * the message or click record), the recipient and time, and the status of each threat it carries. Records of
 * one message to several recipients share GUID and messageTime but differ in `recipient` and `id`, so they
 * never collide (Elastic's GUID+time fingerprint dropped them); a record re-read through the look-back is the
 * same record and is dropped; a record whose threat Proofpoint re-classified (`threatStatus` active →
 * cleared) is new information and is delivered again. Undefined for a record without GUID and id (then the
 * whole record is its identity).
 */
function siemIdentity(record: unknown): string | undefined {
  const guid = field(record, 'GUID');
  const id = field(record, 'id');
  if (typeof guid !== 'string' || typeof id !== 'string' || guid === '' || id === '') return undefined;
  let text = `${guid}\n${id}\n${recipientText(record)}\n${String(field(record, 'messageTime') ?? field(record, 'clickTime'))}`;
  const status = field(record, 'threatStatus');
  if (status !== undefined) text += `\n${String(field(record, 'threatID'))}=${String(status)}`;
  const one = record instanceof JsonRecord ? oneThreatText(record.fieldText('threatsInfoMap')) : undefined;
  if (one !== undefined) return text + one;
  const threats = recordField(record, 'threatsInfoMap');
  if (Array.isArray(threats)) for (const t of threats as (Record<string, unknown> | null)[]) text += `\n${String(t?.['threatID'])}=${String(t?.['threatStatus'])}`;
  return text;
}

/**
 * The threats' part of the identity (`\n<threatID>=<threatStatus>` per element of `threatsInfoMap`) read from the
 * field's text, for the usual answer: no field (nothing), `[]`, or one flat threat object
 * (`[{"threatID":"…","threatStatus":"active",…}]`); undefined for anything else, which is parsed as before.
 * `JSON.parse` of the field was a third of the key's cost (~450 characters an event).
 *
 * Why the text tells the same values: the page is valid JSON, and here it holds no backslash, so no string holds a
 * quote, and no brace or bracket but the array's and the object's own, so every key is one of that object's. Then
 * `"threatID"` followed by `:` is that key, the last one is the one `JSON.parse` keeps, and `"threatID"` anywhere
 * else (a value, a key spaced from its colon) sends the record to the parse.
 */
function oneThreatText(text: string | undefined): string | undefined {
  if (text === undefined || text === '[]') return '';
  const last = text.length - 1;
  if (text.charCodeAt(0) !== OPEN_BRACKET || text.charCodeAt(1) !== OPEN_BRACE || text.charCodeAt(last - 1) !== CLOSE_BRACE || text.charCodeAt(last) !== CLOSE_BRACKET) return undefined;
  if (text.indexOf('{', 2) >= 0 || text.indexOf('}') !== last - 1 || text.indexOf('[', 1) >= 0 || text.indexOf(']') !== last || text.indexOf('\\') >= 0) return undefined;
  const id = flatObjectValue(text, '"threatID"');
  const status = id === undefined ? undefined : flatObjectValue(text, '"threatStatus"');
  return status === undefined ? undefined : `\n${id}=${status}`;
}

/** `String(value)` of key `quoted` (with its quotes) in oneThreatText's flat object; undefined: parse instead. */
function flatObjectValue(text: string, quoted: string): string | undefined {
  const at = text.lastIndexOf(quoted);
  if (at < 0) return 'undefined';
  const value = at + quoted.length + 1;
  if (text.charCodeAt(value - 1) !== COLON) return undefined;
  const c = text.charCodeAt(value);
  if (c === QUOTE) return text.slice(value + 1, text.indexOf('"', value + 1));
  // String() of the literals is their text; numbers (1.0 → "1") and spacing are left to the parse.
  for (const literal of LITERALS) if (text.startsWith(literal, value)) return literal;
  return undefined;
}

const LITERALS = ['null', 'true', 'false'];

/**
 * A field of the identity: a plain string of a forwarded record is read from Proofpoint's text without a
 * parse (what `JSON.parse` would give; only hashed, never kept), anything else as `recordField` reads it.
 */
function field(record: unknown, name: string): unknown {
  return (record instanceof JsonRecord ? record.plainString(name) : undefined) ?? recordField(record, name);
}

/** A compact JSON array of strings without escapes: Proofpoint's `recipient` (`["a@example.com"]`). */
const PLAIN_STRING_ARRAY = /^\["[^"\\]*"(?:,"[^"\\]*")*\]$/;

/**
 * `String(recipient)`: for Proofpoint's usual array of plain strings, the strings joined by commas read from
 * the text (no quote inside them, so `","` is only ever a separator); anything else parsed, as before. One
 * recipient (`["a@example.com"]`, the usual record) is told by its closing quote alone: ~40 ns against ~300
 * for a parse (the regular expression: ~150).
 */
function recipientText(record: unknown): string {
  if (record instanceof JsonRecord) {
    const text = record.fieldText('recipient');
    if (text !== undefined && text.charCodeAt(0) === OPEN_BRACKET && text.charCodeAt(1) === QUOTE) {
      // The page is valid JSON: `["` whose next quote is the text's last but one character is one string.
      const last = text.length - 2;
      if (text.indexOf('"', 2) === last && text.indexOf('\\', 2) < 0) return text.slice(2, last);
      if (PLAIN_STRING_ARRAY.test(text)) return text.slice(2, -2).replaceAll('","', ',');
    }
  }
  return String(field(record, 'recipient'));
}

const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const COLON = 58;
const QUOTE = 34;

/** The top-level fields `siemIdentity` reads: what a forwarded record (a JsonRecord) is scanned for. */
export const SIEM_IDENTITY_FIELDS: readonly string[] = ['GUID', 'id', 'recipient', 'messageTime', 'clickTime', 'threatStatus', 'threatID', 'threatsInfoMap'];

/** The record as a parsed object, for the keys computed from the whole record. */
const parsed = (event: unknown): unknown => (event instanceof JsonRecord ? event.value() : event);

/** Keys start with a character base64url never yields, so a key saved by the earlier format is told apart. */
const KEY_PREFIX = '.';

/**
 * A record's dedup key: a digest of its identity (above), or of the whole record (keys sorted, so a change of
 * key order is not a new record) for one without GUID and id, such as a threat summary. 90 bits: no
 * collision in any dedup window. Hashing a few fields instead of the canonical JSON of the whole 1.5 KB
 * record takes ~1 µs instead of ~10 (docs/benchmarks.md).
 */
export function siemDedupKey(event: unknown): string {
  const identity = typeof event === 'object' && event !== null ? siemIdentity(event) : undefined;
  return KEY_PREFIX + hash('sha256', identity ?? canonicalJson(parsed(event)), 'base64url').slice(0, 15);
}

/**
 * The key the collector computed before 2026-12 (a digest of the whole record's canonical JSON): a dedup
 * window saved by that version holds these, and until a pull completes after the upgrade every record is
 * also checked against them, so the look-back after the upgrade sends nothing twice.
 */
export const previousSiemDedupKey = {
  recognises: (key: string): boolean => !key.startsWith(KEY_PREFIX),
  compute: (event: unknown): string => hash('sha256', canonicalJson(parsed(event)), 'base64url').slice(0, 16),
};

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
    options: endpoint.options ?? serviceOptionsSchema,
    requestPeriodSeconds: PROOFPOINT_DEFAULTS.requestPeriodSeconds,
    dedupKey: siemDedupKey,
    previousDedupKey: previousSiemDedupKey,
    // The look-back re-reads up to ~35 min of events each pull; this many keys cover that with room to spare.
    dedupWindow: 50_000,
    resetKey: (options) => options.start_time_in_utc_format?.trim() || undefined,
    checkpointTime: (checkpoint) => (checkpoint?.cursor ? new Date(checkpoint.cursor) : undefined),

    init(ctx) {
      const value = ctx.options.start_time_in_utc_format;
      if (value !== undefined && value !== null && String(value).trim() !== '') {
        const start = parseConfigTime(String(value));
        const path = `${ctx.path}.start_time_in_utc_format`;
        if (!start) throw proofpointErrors.startTimeMalformed({ value: String(value), path });
        if (start.getTime() > ctx.now().getTime()) throw proofpointErrors.startTimeInFuture({ value: String(value), path });
      }
      const base = ctx.options.override_base_url;
      if (base !== undefined) {
        if (!parseBaseUrl(base).ok) throw proofpointErrors.baseUrlInvalid({ value: String(base), path: `${ctx.path}.override_base_url` });
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
      const result = await fetchSiemWindow(ctx.http, ctx.client, {
        baseUrl: resolved(ctx.options).baseUrl,
        path: endpoint.path,
        arrayKeys: endpoint.arrays ?? [endpoint.name],
        pool: endpoint.pool,
        start: new Date(end - PROOFPOINT_LIMITS.minWindowMs),
        end: new Date(end),
      });
      await endpoint.probeRecords?.(ctx, result.events as Record<string, unknown>[]);
    },

    async *pull(ctx, checkpoint) {
      yield* pullWindows(ctx, checkpoint, windowPolicy(ctx), (window) => fetchWindow(ctx, window));
      if (endpoint.afterWindows && !ctx.signal.aborted) yield* endpoint.afterWindows(ctx);
    },
  });

  /**
   * Proofpoint's windows on the SDK's engine: the first pull starts at `--start-at`, the configured start or
   * an hour back; later pulls re-read from "queried_at − look-back" (what was created before that was surely
   * indexed when the window was asked for), never before the configured start; nothing before Proofpoint's
   * 7 days; whole seconds; at most an hour a window, none shorter than Proofpoint's 30 s (a short last one
   * starts earlier). Each request waits for room in its pool's budget; the cursor is Proofpoint's
   * queryEndTime.
   */
  function windowPolicy(ctx: SiemContext): WindowPolicy<SiemCheckpoint> {
    const { lookbackMs, delayMs } = resolved(ctx.options);
    const configured = parseConfigTime(ctx.options.start_time_in_utc_format ?? '');
    const limiter = ctx.http.limiter(endpoint.pool);
    const budget = limiter ? poolBudget(limiter) : undefined;
    let reserve = 0;
    let until = 0;
    return {
      initialStart: configured ?? new Date(ctx.now().getTime() - PROOFPOINT_DEFAULTS.initialLookbackHours * HOUR),
      floor: configured,
      resumeAt: (checkpoint) => parsedTime(checkpoint.cursor),
      lookbackFrom: (checkpoint) => parsedTime(checkpoint.queried_at ?? checkpoint.cursor),
      checkpointAt: (end, askedAt) => ({ cursor: formatUtc(end), queried_at: askedAt.toISOString() }),
      lookbackMs,
      historicFloor: (now) => new Date(now.getTime() - PROOFPOINT_LIMITS.maxLookbackMs + PROOFPOINT_LIMITS.lookbackSafetyMs),
      onClamp: ({ source, resumed, wanted, floor }) => {
        if (source === 'window') ctx.log.warning(`Proofpoint keeps 7 days: events created from ${windowTime(wanted)} to ${windowTime(floor)} can no longer be fetched`);
        else if (source !== 'checkpoint') ctx.log.warning(START_TIME_CLAMPED_WARNING);
        else if (resumed && resumed < floor) {
          ctx.log.warning(`Proofpoint keeps 7 days: events created from ${windowTime(resumed)} to ${windowTime(floor)} can no longer be fetched; continuing from ${windowTime(floor)}`);
        }
      },
      maxSpanMs: PROOFPOINT_LIMITS.maxWindowMs,
      minSpanMs: PROOFPOINT_LIMITS.minWindowMs,
      stretchToMinSpan: true,
      delayMs,
      alignMs: 1000,
      planned: (plan) => {
        const windows = plan.windows.length;
        if (windows === 0) return ctx.log.debug(`Up to date: the next window would be shorter than ${PROOFPOINT_LIMITS.minWindowMs / 1000} s`);
        until = plan.windows[windows - 1]!.end.getTime();
        if (!limiter || !budget) return;
        if (!ctx.client.describedPools.has(endpoint.pool)) {
          ctx.client.describedPools.add(endpoint.pool);
          describeBudget(ctx, endpoint, budget);
        }
        reserve = reserveFor(budget, steadyNeed(servicesInPool(ctx.input, endpoint.pool, poolOfService), budget.periodMs));
        const free = limiter.remaining();
        if (windows > 1 && windows > free - reserve) {
          const eta = estimateDone(limiter, budget, reserve, windows);
          ctx.log.warning(
            `Catching up from ${windowTime(plan.start)} needs ${windows} requests, but pool <${endpoint.pool}> has ${Math.max(0, free)} of ${budget.limit} requests per ${describePeriod(budget.periodMs)} left ` +
              `and keeps ${reserve} for the regular pulls: spacing the requests as older ones leave the window; expected to be current at about ${Number.isFinite(eta) ? formatUtc(new Date(eta)) : 'an unknown time (the reserve takes the whole budget)'}`,
          );
        }
      },
      // The first request of a pull is a regular one; the rest are catch-up and leave the reserve alone.
      beforeWindow: (_window, fetched) =>
        !limiter || !budget
          ? true
          : waitForRoom(limiter, budget, fetched === 0 ? 1 : reserve + 1, ctx.signal, (at) =>
              ctx.log.info(`Request budget of pool <${endpoint.pool}> is in use: the next request goes at ${formatUtc(at)}, when an older request leaves the ${describePeriod(budget.periodMs)} window`),
            ),
      // How far behind now the service is, in one-hour windows still to pull (0 when current).
      afterWindow: (_window, reached) =>
        ctx.metrics.gauge('proofpoint_windows_behind', Math.max(0, Math.ceil((until - reached.getTime() - PROOFPOINT_LIMITS.minWindowMs) / PROOFPOINT_LIMITS.maxWindowMs))),
      lines: { window: (window) => `Time Window FROM: ${windowTime(window.start)} TO: ${windowTime(window.end)}` },
    };
  }

  /** One window's request, and its records as the service's events (`page`, for handOver). */
  async function readWindow(ctx: SiemContext, window: TimeWindow): Promise<WindowAnswer> {
    const { baseUrl } = resolved(ctx.options);
    // Records the service forwards unchanged come as Proofpoint's text (not parsed, the identity's fields read);
    // a service that makes its own events from them (threats) gets them parsed.
    const forwardFields = endpoint.toEvents ? undefined : SIEM_IDENTITY_FIELDS;
    const result = await fetchSiemWindow(ctx.http, ctx.client, { baseUrl, path: endpoint.path, arrayKeys: endpoint.arrays ?? [endpoint.name], pool: endpoint.pool, start: window.start, end: window.end, forwardFields });
    const limiter = ctx.http.limiter(endpoint.pool);
    if (limiter && poolBudget(limiter)) ctx.metrics.gauge('proofpoint_requests_remaining', Math.max(0, limiter.remaining()));
    return { page: endpoint.toEvents ? await endpoint.toEvents(ctx, result.events as Record<string, unknown>[]) : result.events, queryEndTime: result.queryEndTime };
  }

  /** One window: one request; Proofpoint's queryEndTime may say it answered only part of it. */
  async function* fetchWindow(ctx: SiemContext, window: TimeWindow): AsyncGenerator<readonly unknown[], WindowEnd> {
    const answer = await readWindow(ctx, window);
    // A stop inside toEvents may have left some of the window's records unread: commit nothing for it.
    if (ctx.signal.aborted && endpoint.toEvents) return { unfinished: true };
    // Taken out of `answer` as it is handed over: a suspended generator keeps its variables, and the window's
    // records (2–4 MB of text) must not stay alive in one while the runner waits to queue them. Moved into a new
    // array: the one `fetchSiemWindow` made is also held by its promise and `readWindow`'s, made before the
    // answer and perhaps promoted while it waited (an old holder keeps what it points at alive through every
    // scavenge until a full collection, and a garbage 3 MB text would be promoted); emptied, it holds nothing.
    yield handOver(answer).splice(0);
    // Proofpoint's queryEndTime is the cursor; it never moves us past what we asked for, nor back before it.
    const reported = answer.queryEndTime?.getTime();
    if (reported === undefined || floorToSecond(reported) >= window.end.getTime()) return {};
    const reached = new Date(Math.max(window.start.getTime(), floorToSecond(reported)));
    ctx.log.info(`Proofpoint answered up to ${windowTime(reached)} only (queryEndTime); the next pull continues from there`);
    return { reached };
  }
}

/** A window's answer while it is handed over (see fetchWindow). */
interface WindowAnswer {
  page: unknown[] | undefined;
  queryEndTime: Date | undefined;
}

/** A checkpoint's instant; undefined when it is unreadable (the pull then starts as if there were none). */
function parsedTime(value: string | undefined): Date | undefined {
  const time = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(time) ? undefined : new Date(time);
}
