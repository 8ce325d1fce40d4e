import { defineService, formatUtc, type PullContext } from '@collector/sdk';
import type { O365Client, TokenSpec } from '../client.js';
import { checkServiceConfig, parseHistoricLimits, parseServiceOptions, rwsOptionsSchema, type ServiceOptions } from '../config.js';
import { o365Errors } from '../errors.js';
import { traceKey, type MessageTraceCheckpoint } from '../historic.js';
import { O365_LOG_LINES, pullPipelines } from '../pipelines.js';
import { checkResponse, jsonBody } from './responses.js';
import { resetKeyOf } from './reset-key.js';

export const MESSAGE_TRACE_TAG = 'cloud.office365.messagetracing';
/** The manual's pipelines are 15 minutes of message trace each. */
export const RWS_WINDOW_MS = 15 * 60_000;
/** More pages than this for one 15-minute window means the server ignores $skiptoken. */
const MAX_PAGES_PER_WINDOW = 10_000;

type Ctx = PullContext<O365Client, Record<string, unknown>>;

export const RWS_RETIREMENT_WARNING =
  'The Reporting Web Service message trace is being retired (Microsoft began on 2026-04-06; new tenants never had it): ' +
  'switch to office365_exchange_message_graph_service (README "Migrating from the Reporting Web Service to Graph")';
export type RwsRow = Record<string, unknown>;

/** `Received` as epoch ms, whichever JSON shape carried it (`/Date(ms)/`, or ISO with up to 7 decimals and no Z). */
export function rwsReceivedMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const verbose = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value);
  if (verbose) return Number(verbose[1]);
  const iso = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (!iso) return undefined;
  const t = Date.parse(`${iso[1]}${(iso[2] ?? '').slice(0, 4)}${iso[3] ?? 'Z'}`);
  return Number.isNaN(t) ? undefined : t;
}

/** One event per (message, recipient): never merge two recipients of one message. */
export function rwsDedupKey(row: RwsRow): string {
  return traceKey(['rws', row['MessageTraceId'], row['MessageId'], row['RecipientAddress'], rwsReceivedMs(row['Received']) ?? row['Received'], row['Status']]);
}

/** Rows and next link of a MessageTrace page, JSON light (`value`) or verbose (`d.results` / `d`). */
export function parseRwsPage(body: Record<string, unknown>, path: string): { rows: RwsRow[]; next: string | undefined } {
  const link = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  if (Array.isArray(body['value'])) return { rows: body['value'] as RwsRow[], next: link(body['odata.nextLink']) ?? link(body['@odata.nextLink']) };
  const d = body['d'] as Record<string, unknown> | unknown[] | undefined;
  if (Array.isArray(d)) return { rows: d as RwsRow[], next: link(body['__next']) };
  if (d && typeof d === 'object' && Array.isArray(d['results'])) return { rows: d['results'] as RwsRow[], next: link(d['__next']) };
  throw o365Errors.unreadableBody({ error: 'the MessageTrace answer holds neither "value" nor "d.results"' }, { path });
}

export function rwsTokenSpec(o: ServiceOptions): TokenSpec {
  return { endpoint: o.tokenEndpoint, authUrl: o.authUrl, resource: o.resource, timeoutMs: o.timeoutMs };
}

/** `$filter=StartDate eq datetime'..' and EndDate eq datetime'..'`, `$format=json`, `$top` (both dates inclusive). */
export function rwsQueryUrl(root: string, start: Date, end: Date, top: number, skip = 0): string {
  const filter = `StartDate eq datetime'${formatUtc(start)}' and EndDate eq datetime'${formatUtc(end)}'`;
  return `${root}/MessageTrace?$filter=${encodeURIComponent(filter)}&$format=json&$top=${top}${skip > 0 ? `&$skiptoken=${skip}` : ''}`;
}

/** Pages of one window: a next link when the server gives one, else `$skiptoken` offsets until a short page. */
async function* rwsPages(ctx: Ctx, o: ServiceOptions, start: Date, end: Date): AsyncGenerator<RwsRow[]> {
  const spec = rwsTokenSpec(o);
  let url = rwsQueryUrl(o.baseUrl, start, end, o.pageSize);
  let offset = 0;
  let serverPaging = false;
  let previousFirst: string | undefined;
  for (let page = 1; ; page++) {
    if (page > MAX_PAGES_PER_WINDOW) throw o365Errors.unreadableBody({ error: `more than ${MAX_PAGES_PER_WINDOW} pages for one window: the server does not honour $skiptoken` }, { path: ctx.path });
    ctx.log.info(`Requesting data. URL: ${decodeURIComponent(url)}`);
    const res = await ctx.client.get(ctx.http, spec, url, { timeoutMs: o.timeoutMs, pool: 'rws', path: ctx.path, log: ctx.log });
    checkResponse('rws', res, ctx.path);
    const { rows, next } = parseRwsPage(jsonBody(res, ctx.path), ctx.path);
    ctx.log.info(`${rows.length} Events retrieved from the last API call.`);
    // A full page whose first row is the previous page's first row: the offset was ignored; stop, don't loop.
    const first = rows[0] ? rwsDedupKey(rows[0]) : undefined;
    if (first !== undefined && first === previousFirst) throw o365Errors.unreadableBody({ error: 'the same page came back twice: the server ignores $skiptoken' }, { path: ctx.path });
    previousFirst = first;
    if (rows.length > 0) yield rows;
    offset += rows.length;
    if (next) {
      const resolved = new URL(next, url).toString();
      if (resolved === url) throw o365Errors.unreadableBody({ error: 'the next link points at the page just read' }, { path: ctx.path });
      url = resolved;
      serverPaging = true;
      continue;
    }
    // Once the server pages with next links, the last page is the one without a link.
    if (serverPaging || rows.length < o.pageSize) return;
    url = rwsQueryUrl(o.baseUrl, start, end, o.pageSize, offset);
  }
}

/**
 * Legacy Reporting Web Service `MessageTrace` (retiring from 6 April 2026): 15-minute pipelines from the
 * savepoint up to now − override_time_delay_in_seconds (25 h by default: rows arrive up to 24 h late).
 */
export const rwsMessageTraceService = defineService<O365Client, Record<string, unknown>, MessageTraceCheckpoint>({
  tag: MESSAGE_TRACE_TAG,
  moduleName: 'Office365ExchangeMessageTracePuller',
  logLines: O365_LOG_LINES,
  options: rwsOptionsSchema,
  requestPeriodSeconds: 60,
  // Legacy: runs only when named under `services:` (a config without it collects Graph).
  optIn: true,
  // Windows join at one instant, so only boundary rows repeat; a savepoint is written every 15 minutes of
  // trace, and a smaller window keeps that write small during a 10-day catch-up.
  dedupWindow: 20_000,
  init(ctx) {
    checkServiceConfig(ctx, 'rws', Number.POSITIVE_INFINITY);
    ctx.log.warning(RWS_RETIREMENT_WARNING);
  },
  resetKey: resetKeyOf,
  dedupKey: rwsDedupKey,
  async *pull(ctx, checkpoint) {
    const o = parseServiceOptions('rws', ctx.options, ctx.path);
    const limits = parseHistoricLimits(ctx.input);
    ctx.log.info(`Due to remote API requirements, this collector cannot request data less than <${o.delaySeconds}> seconds or older than ${limits.cutoffDays} days`);
    yield* pullPipelines(ctx, checkpoint, o, limits, { maxSpanMs: RWS_WINDOW_MS, wholeWindows: true }, (window) => rwsPages(ctx, o, window.start, window.end));
  },
  async probe(ctx) {
    // The manual's verification: GET .../Reporting.svc answers 200 with the MessageTrace collection.
    const o = parseServiceOptions('rws', ctx.options, ctx.path);
    const res = await ctx.client.get(ctx.http, rwsTokenSpec(o), o.baseUrl, { timeoutMs: o.timeoutMs, pool: 'rws', path: ctx.path, log: ctx.log });
    checkResponse('rws', res, ctx.path);
  },
});
