import { collectYoungGeneration, defineService, formatUtc, LARGE_PAGE_CHARS, type PullContext } from '@collector/sdk';
import type { O365Client, TokenSpec } from '../client.js';
import { checkServiceConfig, GRAPH_MAX_DAYS_BACK, graphOptionsSchema, parseHistoricLimits, parseServiceOptions, type ServiceOptions } from '../config.js';
import { o365Errors } from '../errors.js';
import { floorToSecond, keyPart, traceDigest, type MessageTraceCheckpoint } from '../historic.js';
import { O365_LOG_LINES, pullPipelines } from '../pipelines.js';
import { MESSAGE_TRACE_TAG } from './message-trace-rws.js';
import { checkResponse, jsonBody } from './responses.js';
import { resetKeyOf } from './reset-key.js';

/** Ask for `recalled` instead of `unknownFutureValue` in `status` (an evolvable enum member). */
const GRAPH_HEADERS = { prefer: 'include-unknown-enum-members' };

type Ctx = PullContext<O365Client, Record<string, unknown>>;
export type GraphRow = Record<string, unknown>;
/** A guard against a server that hands out nextLinks forever (5000 rows × 20000 pages = 100 M rows a window). */
const MAX_PAGES_PER_WINDOW = 20_000;

/** One event per (message trace id, recipient): Graph repeats `id` for every recipient of a message. */
export function graphDedupKey(row: GraphRow): string {
  // traceKey(['graph', id, messageId, recipientAddress, receivedDateTime, status]) written out: the same text and
  // digest (states saved before dedup the same) without an array and a loop per row, the one per-event work of
  // this service besides the SDK's (~10 % less CPU for the key in isolation: 5000 Graph rows, Node 24).
  return traceDigest(`graph\u0000${keyPart(row['id'])}\u0000${keyPart(row['messageId'])}\u0000${keyPart(row['recipientAddress'])}\u0000${keyPart(row['receivedDateTime'])}\u0000${keyPart(row['status'])}`);
}

export function graphTokenSpec(o: ServiceOptions): TokenSpec {
  return { endpoint: 'v2', authUrl: o.authUrl, resource: o.resource, timeoutMs: o.timeoutMs };
}

/** `$filter=receivedDateTime ge X and receivedDateTime le Y` (seconds, Z; both inclusive) and `$top`; spaces as %20. */
export function graphQueryUrl(collection: string, start: Date, end: Date, top: number): string {
  const filter = `receivedDateTime ge ${formatUtc(start)} and receivedDateTime le ${formatUtc(end)}`;
  return `${collection}?$filter=${encodeURIComponent(filter)}&$top=${top}`;
}

/** One parsed page: its rows and the link to the next one (none on the last page). */
interface GraphPage {
  rows: GraphRow[];
  next: string | undefined;
}

/**
 * Fetches and parses one page. A function of its own so that nothing the caller keeps reaches the response:
 * its text (one flat string of ~1.6 MB for 5000 rows, which V8 keeps in its large-object space) is garbage
 * once parsed. Held by a generator's frame while the page's rows were encoded and queued, it was alive at
 * every scavenge and promoted by each one: ~1.5 MB a page of old-generation garbage that only a full
 * collection frees (18 MiB of the 148–160 MiB peak of a 100,000-event run).
 */
async function fetchGraphPage(ctx: Ctx, o: ServiceOptions, spec: TokenSpec, url: string): Promise<GraphPage> {
  ctx.log.debug(`Requesting data. URL: ${url}`);
  const res = await ctx.client.get(ctx.http, spec, url, { timeoutMs: o.timeoutMs, path: ctx.path, log: ctx.log, headers: GRAPH_HEADERS });
  checkResponse('graph', res, ctx.path);
  // A page of LARGE_PAGE_CHARS (~1,600 Graph rows) and up is parsed into a young generation emptied first: parsing a
  // 5000-row page allocates ~6 MB of rows while its ~1.6 MB text must stay alive, and with the launch line's 8 MiB
  // semi-spaces a scavenge nearly always fell in that span and promoted the text (1.5 MB of old-generation garbage
  // a page, 15 MiB of a 100,000-event run's peak).
  if (res.text.length >= LARGE_PAGE_CHARS) collectYoungGeneration();
  const body = jsonBody(res, ctx.path);
  const rows = body['value'];
  if (!Array.isArray(rows)) throw o365Errors.unreadableBody({ error: 'the messageTraces answer holds no "value" array' }, { path: ctx.path });
  const next = body['@odata.nextLink'];
  return { rows: rows as GraphRow[], next: typeof next === 'string' && next !== '' ? next : undefined };
}

/** The page's rows, taken out of it: the generator's frame keeps `page` across the yield, not the rows. */
function takeRows(page: GraphPage): GraphRow[] {
  const { rows } = page;
  page.rows = [];
  return rows;
}

/** Pages of one window, following `@odata.nextLink` verbatim until there is none. */
export async function* graphPages(ctx: Ctx, o: ServiceOptions, start: Date, end: Date): AsyncGenerator<GraphRow[]> {
  const spec = graphTokenSpec(o);
  let url = graphQueryUrl(o.baseUrl, start, end, o.pageSize);
  const seen = new Set<string>();
  for (let number = 1; ; number++) {
    if (number > MAX_PAGES_PER_WINDOW) throw o365Errors.unreadableBody({ error: `more than ${MAX_PAGES_PER_WINDOW} pages for one window` }, { path: ctx.path });
    const page = await fetchGraphPage(ctx, o, spec, url);
    ctx.log.info(`${page.rows.length} Events retrieved from the last API call.`);
    const { next } = page;
    if (page.rows.length > 0) yield takeRows(page);
    if (next === undefined) return;
    if (seen.has(next)) throw o365Errors.unreadableBody({ error: '@odata.nextLink repeats a page already read' }, { path: ctx.path });
    seen.add(next);
    url = next;
  }
}

/**
 * Microsoft Graph `messageTraces` (the Reporting Web Service's replacement): windows of up to 10 days
 * (`max_window_in_seconds`) from the savepoint up to now − override_time_delay_in_seconds, `$top` up to
 * 5000, `@odata.nextLink` paging. Requests spend the input's `requests_limits` (default 100 / 5 min, the
 * tenant throttle); a 429 waits for `Retry-After`.
 */
export const graphMessageTraceService = defineService<O365Client, Record<string, unknown>, MessageTraceCheckpoint>({
  tag: MESSAGE_TRACE_TAG,
  moduleName: 'Office365ExchangeMessageTraceGraphPuller',
  logLines: O365_LOG_LINES,
  options: graphOptionsSchema,
  requestPeriodSeconds: 60,
  dedupWindow: 50_000,
  init(ctx) {
    const { limits } = checkServiceConfig(ctx, 'graph', GRAPH_MAX_DAYS_BACK);
    if (limits.cutoffDays > GRAPH_MAX_DAYS_BACK) {
      ctx.log.warning(`Graph answers at most ${GRAPH_MAX_DAYS_BACK} days back: max_historic_date_cutoff_days_back=${limits.cutoffDays} is applied as ${GRAPH_MAX_DAYS_BACK} for this service`);
    }
  },
  resetKey: resetKeyOf,
  dedupKey: graphDedupKey,
  async *pull(ctx, checkpoint) {
    const o = parseServiceOptions('graph', ctx.options, ctx.path);
    const limits = parseHistoricLimits(ctx.input);
    const days = Math.min(limits.cutoffDays, GRAPH_MAX_DAYS_BACK);
    ctx.log.info(`Due to remote API requirements, this collector cannot request data less than <${o.delaySeconds}> seconds or older than ${days} days`);
    yield* pullPipelines(ctx, checkpoint, o, limits, { maxSpanMs: o.maxWindowSeconds * 1000, maxDaysBack: GRAPH_MAX_DAYS_BACK }, (window) => graphPages(ctx, o, window.start, window.end));
  },
  async probe(ctx) {
    // The smallest real query: one row of the hour before the delay edge.
    const o = parseServiceOptions('graph', ctx.options, ctx.path);
    const end = new Date(floorToSecond(ctx.now()).getTime() - 60_000);
    const res = await ctx.client.get(ctx.http, graphTokenSpec(o), graphQueryUrl(o.baseUrl, new Date(end.getTime() - 3_600_000), end, 1), { timeoutMs: o.timeoutMs, path: ctx.path, log: ctx.log });
    checkResponse('graph', res, ctx.path);
  },
});
