import type { JsonValue, PullBatch } from '@collector/sdk';
import { fetchThreatForensics, fetchThreatSummary } from '../client.js';
import { PROOFPOINT_DEFAULTS, proofpointBaseUrl, threatsOptionsSchema } from '../config.js';
import { describePeriod, hasRoomNow, poolBudget } from '../budget.js';
import { siemService, type SiemCheckpoint, type SiemContext } from './siem-service.js';

/**
 * `threats` (Devo's Proofpoint TAP page): every threat seen in the SIEM stream (`/v2/siem/all`: the
 * `threatsInfoMap` of messages, the `threatID` of clicks) is summarised through the Threat API
 * (`/v2/threat/summary/<threatId>`) once, and again whenever its status changes (active → cleared,
 * falsePositive, ...). With `include_forensics` the Forensics API's reports for the threat
 * (`/v2/forensics?threatId=<id>&includecampaignforensics=true`) follow, flattened: one event per evidence.
 *
 * What was summarised, and in which status, is kept per threat with the service's state (`extra.threats`)
 * and committed with the checkpoint of the window whose events carried it, so a restart neither repeats
 * nor loses a summary. A threat's status is asked again every `threat_status_recheck_in_seconds` while it
 * was seen in the last `threat_tracking_in_hours`, because a re-classification does not have to show up in
 * the SIEM stream. Forensics by threat ID cost 1 of 50 requests a day (pool `forensics`): when the pool is
 * spent the summary goes at once and its forensics wait in `extra.forensics_pending` for the budget.
 */

/** One tracked threat: the status last delivered ('' when Proofpoint did not know it yet), when it was last seen in the SIEM stream and last asked about (epoch ms). */
interface Tracked {
  status: string;
  seen: number;
  checked: number;
}

interface ThreatState {
  threats: Record<string, Tracked>;
  /** Threats whose forensics are still to be fetched, with the status they were summarised in. */
  pending: { id: string; status: string }[];
}

/** The threats a SIEM record refers to, with the status Proofpoint shows for each. */
export function threatsOfRecord(record: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  const add = (id: unknown, status: unknown) => {
    if (typeof id === 'string' && id !== '') out.set(id, typeof status === 'string' ? status : '');
  };
  const map = record['threatsInfoMap'];
  if (Array.isArray(map)) for (const t of map) if (t && typeof t === 'object') add((t as Record<string, unknown>)['threatID'], (t as Record<string, unknown>)['threatStatus']);
  add(record['threatID'], record['threatStatus']);
  return out;
}

/**
 * Each report's `forensics` array flattened: one event per evidence, with the report's other keys
 * (`scope`, `id`, `name`, `threatStatus`), `forensics` holding that one evidence, and `threatId` (the threat
 * asked about; a CAMPAIGN report's `id` is the campaign's).
 */
export function flattenForensics(threatId: string, reports: Record<string, unknown>[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const report of reports) {
    const { forensics, ...rest } = report;
    if (!Array.isArray(forensics)) continue;
    for (const evidence of forensics) out.push({ threatId, ...rest, forensics: evidence });
  }
  return out;
}

function load(ctx: SiemContext): ThreatState {
  // A private copy: the runner may write its state (the last commit's `extra`) at any time, so the object
  // it holds must never change before the events it stands for were acknowledged.
  const saved = (ctx.extra['threats'] ?? {}) as unknown as Record<string, Tracked>;
  const pending = (ctx.extra['forensics_pending'] ?? []) as unknown as ThreatState['pending'];
  return { threats: structuredClone(saved), pending: structuredClone(pending) };
}

/** Hands a snapshot to the runner: committed with the next checkpoint (or at the end of the pull). */
function save(ctx: SiemContext, state: ThreatState): void {
  ctx.extra['threats'] = structuredClone(state.threats) as unknown as JsonValue;
  ctx.extra['forensics_pending'] = structuredClone(state.pending) as unknown as JsonValue;
}

function options(ctx: SiemContext) {
  return {
    baseUrl: proofpointBaseUrl(ctx.options),
    forensics: ctx.options.include_forensics === true,
    recheckMs: (ctx.options.threat_status_recheck_in_seconds ?? PROOFPOINT_DEFAULTS.threatStatusRecheckSeconds) * 1000,
    trackingMs: (ctx.options.threat_tracking_in_hours ?? PROOFPOINT_DEFAULTS.threatTrackingHours) * 3_600_000,
  };
}

/** The forensics of one threat if the pool has room now, else queued; events to deliver. */
async function forensicsOf(ctx: SiemContext, state: ThreatState, id: string, status: string): Promise<Record<string, unknown>[]> {
  const queue = () => {
    state.pending = state.pending.filter((p) => p.id !== id);
    state.pending.push({ id, status });
  };
  if (!hasRoomNow(ctx.http.limiter('forensics'))) {
    queue();
    return [];
  }
  const result = await fetchThreatForensics(ctx.http, ctx.client, options(ctx).baseUrl, id);
  if ('unavailable' in result) {
    // 404: Proofpoint has no forensics for this threat; nothing to wait for.
    if (result.status === 404) {
      ctx.log.warning(`No forensics for threat ${id}: ${result.unavailable}`);
      state.pending = state.pending.filter((p) => p.id !== id);
      return [];
    }
    ctx.log.warning(`Forensics of threat ${id} not fetched (${result.unavailable}); retried on a later pull`);
    queue();
    return [];
  }
  state.pending = state.pending.filter((p) => p.id !== id);
  return flattenForensics(id, result.reports);
}

/**
 * Asks the Threat API about each threat; what is new or changed status becomes events (with its forensics
 * when switched on). `seenInStream` marks the threats the SIEM stream showed just now.
 */
async function summarise(ctx: SiemContext, state: ThreatState, ids: Iterable<string>, seenInStream: boolean): Promise<unknown[]> {
  const { baseUrl, forensics } = options(ctx);
  const events: unknown[] = [];
  for (const id of ids) {
    if (ctx.signal.aborted) break;
    const now = Date.now();
    const previous = state.threats[id];
    const seen = seenInStream ? now : (previous?.seen ?? now);
    const summary = await fetchThreatSummary(ctx.http, ctx.client, baseUrl, id);
    if (!summary) {
      ctx.log.warning(`Proofpoint does not know threat ${id} yet (HTTP 404 from the Threat API); asked again on a later pull`);
      state.threats[id] = { status: previous?.status ?? '', seen, checked: now };
      continue;
    }
    const status = typeof summary['status'] === 'string' ? summary['status'] : '';
    state.threats[id] = { status, seen, checked: now };
    if (previous && previous.status === status) continue;
    if (previous?.status) ctx.log.info(`Threat ${id} changed status: ${previous.status} -> ${status}`);
    events.push(summary);
    if (forensics) events.push(...(await forensicsOf(ctx, state, id, status)));
  }
  return events;
}

export const threatsService = siemService({
  name: 'threats',
  path: '/v2/siem/all',
  arrays: ['clicksBlocked', 'clicksPermitted', 'messagesBlocked', 'messagesDelivered'],
  pool: 'default',
  tag: 'mail.proofpoint.tap_threats.events',
  options: threatsOptionsSchema,

  async toEvents(ctx, records) {
    const state = load(ctx);
    const inWindow = new Map<string, string>();
    for (const record of records) for (const [id, status] of threatsOfRecord(record)) inWindow.set(id, status);
    const now = Date.now();
    const ask: string[] = [];
    for (const [id, status] of inWindow) {
      const tracked = state.threats[id];
      // New, not known to the Threat API before, or the stream shows another status than the one delivered.
      if (!tracked || tracked.status === '' || (status !== '' && status !== tracked.status)) ask.push(id);
      else tracked.seen = now;
    }
    const events = await summarise(ctx, state, ask, true);
    save(ctx, state);
    return events;
  },

  async *afterWindows(ctx): AsyncGenerator<PullBatch<SiemCheckpoint>> {
    const state = load(ctx);
    const { forensics, recheckMs, trackingMs } = options(ctx);
    const now = Date.now();
    for (const [id, tracked] of Object.entries(state.threats)) {
      if (tracked.seen < now - trackingMs) delete state.threats[id];
    }
    state.pending = forensics ? state.pending.filter((p) => state.threats[p.id]) : [];
    const due = Object.entries(state.threats)
      .filter(([, t]) => t.status === '' || (recheckMs > 0 && t.checked <= now - recheckMs))
      .map(([id]) => id);
    const events = await summarise(ctx, state, due, false);
    // Forensics that waited for budget, oldest first, as long as the pool has room.
    for (const { id, status } of [...state.pending]) {
      if (ctx.signal.aborted || !hasRoomNow(ctx.http.limiter('forensics'))) break;
      if (state.threats[id]?.status !== status) continue;
      events.push(...(await forensicsOf(ctx, state, id, status)));
    }
    if (state.pending.length > 0) {
      const budget = poolBudget(ctx.http.limiter('forensics'));
      ctx.log.warning(
        `Forensics of ${state.pending.length} threat(s) wait for the forensics budget (pool <forensics>, ${budget ? `${budget.limit} requests per ${describePeriod(budget.periodMs)}` : 'unlimited'}); their summaries were delivered`,
      );
    }
    // Saved before the events are handed over: the runner commits it only once they were acknowledged.
    save(ctx, state);
    if (events.length > 0) yield { events };
  },

  async probeRecords(ctx, records) {
    // The Threat API spends no budget: summarise the first threat of the probe window, if there is one.
    const first = records.flatMap((r) => [...threatsOfRecord(r).keys()])[0];
    if (first) await fetchThreatSummary(ctx.http, ctx.client, proofpointBaseUrl(ctx.options), first);
  },
});
