import { defineService, type JsonValue, type PullContext } from '@collector/sdk';
import type { O365Client } from '../client.js';
import { checkServiceConfig, GRAPH_MAX_DAYS_BACK, graphDetailOptionsSchema, parseDetailStatuses, parseHistoricLimits, parseServiceOptions, type ServiceOptions } from '../config.js';
import { o365Errors } from '../errors.js';
import { traceKey, type MessageTraceCheckpoint } from '../historic.js';
import { O365_LOG_LINES, pullPipelines } from '../pipelines.js';
import { graphDedupKey, graphMessageTraceService, graphPages, graphTokenSpec, type GraphRow } from './message-trace-graph.js';
import { MESSAGE_TRACE_TAG } from './message-trace-rws.js';
import { checkResponse, jsonBody } from './responses.js';
import { resetKeyOf } from './reset-key.js';

/**
 * Devo tags are `technology.brand.product[.type]`: the details are another record type of the same product
 * (one per delivery step, not one per recipient), so they get their own table under the trace's tag.
 */
export const MESSAGE_TRACE_DETAIL_TAG = `${MESSAGE_TRACE_TAG}.detail`;

type Ctx = PullContext<O365Client, Record<string, unknown>>;
export type GraphDetail = Record<string, unknown>;

/**
 * Trace rows whose details were fetched, remembered (hashed) across pulls and restarts so that a window
 * boundary or a look-back re-read does not spend a request again. A row whose status changed has another
 * key, so its new details are fetched.
 */
const DETAILED_ROWS_KEY = 'detailed_rows';
const DETAILED_ROWS_KEPT = 20_000;

/**
 * One detail is one step of one message to one recipient. Graph gives every detail of a message the message
 * trace's `id` and no recipient, so the key is that id, the recipient the details were asked for, and the
 * step itself (time, event, action, description).
 */
export function detailDedupKey(detail: GraphDetail): string {
  return traceKey(['detail', detail['id'], detail['recipientAddress'], detail['dateTime'], detail['event'], detail['action'], detail['description']]);
}

/** `{collection}/{id}/getDetailsByRecipient(recipientAddress='<address>')`: an OData string literal (`'` doubled). */
export function detailUrl(collection: string, id: string, recipient: string): string {
  return `${collection}/${encodeURIComponent(id)}/getDetailsByRecipient(recipientAddress='${encodeURIComponent(recipient.replace(/'/g, "''"))}')`;
}

/** The details of one trace row, each with the `recipientAddress` they were asked for (the detail itself has none). */
async function fetchDetails(ctx: Ctx, o: ServiceOptions, id: string, recipient: string): Promise<GraphDetail[]> {
  const url = detailUrl(o.baseUrl, id, recipient);
  const out: GraphDetail[] = [];
  for (let next: string | undefined = url, pages = 0; next; pages++) {
    if (pages > 100) throw o365Errors.unreadableBody({ error: 'more than 100 pages of details for one recipient' }, { path: ctx.path });
    ctx.log.debug(`Requesting details. URL: ${next}`);
    const res = await ctx.client.get(ctx.http, graphTokenSpec(o), next, { timeoutMs: o.timeoutMs, path: ctx.path, log: ctx.log });
    if (res.status === 404) {
      // The trace row was listed but its details are not (or no longer) there: nothing to send for it.
      ctx.log.warning(`No details for message trace ${id} (HTTP 404 from getDetailsByRecipient); its trace row was collected by the trace service`);
      return out;
    }
    checkResponse('graph', res, ctx.path);
    const body = jsonBody(res, ctx.path);
    const value = body['value'];
    if (!Array.isArray(value)) throw o365Errors.unreadableBody({ error: 'the getDetailsByRecipient answer holds no "value" array' }, { path: ctx.path });
    for (const detail of value) if (detail && typeof detail === 'object') out.push({ ...(detail as GraphDetail), recipientAddress: recipient });
    // Not documented to page; follow a next link if the API ever gives one.
    const link = body['@odata.nextLink'];
    next = typeof link === 'string' && link !== '' && link !== next ? link : undefined;
  }
  return out;
}

/**
 * Microsoft Graph `getDetailsByRecipient`: for every message trace row (message × recipient) of a window,
 * the delivery steps of that recipient (receive, spam/malware verdicts, transport rules, deliver, fail...),
 * one event per step. Opt-in: every row costs one request from the tenant's 100 requests per 5 minutes,
 * which the trace listing uses too (both spend the input's `requests_limits`).
 */
export const graphMessageTraceDetailService = defineService<O365Client, Record<string, unknown>, MessageTraceCheckpoint>({
  tag: MESSAGE_TRACE_DETAIL_TAG,
  moduleName: 'Office365ExchangeMessageTraceDetailPuller',
  logLines: O365_LOG_LINES,
  options: graphDetailOptionsSchema,
  optIn: true,
  requestPeriodSeconds: 60,
  dedupWindow: 50_000,
  init(ctx) {
    checkServiceConfig(ctx, 'graph', GRAPH_MAX_DAYS_BACK);
    parseDetailStatuses(ctx.options, ctx.path);
  },
  resetKey: resetKeyOf,
  dedupKey: detailDedupKey,
  async *pull(ctx, checkpoint) {
    const o = parseServiceOptions('graph', ctx.options, ctx.path);
    const limits = parseHistoricLimits(ctx.input);
    const statuses = parseDetailStatuses(ctx.options, ctx.path);
    const saved = ctx.extra[DETAILED_ROWS_KEY];
    let detailed = new Set<string>(Array.isArray(saved) ? saved.filter((k): k is string => typeof k === 'string') : []);
    yield* pullPipelines(ctx, checkpoint, o, limits, { maxSpanMs: o.maxWindowSeconds * 1000, maxDaysBack: GRAPH_MAX_DAYS_BACK }, async function* (window) {
      // The whole listing first: fetching details between pages would hold a next link for minutes.
      const rows: GraphRow[] = [];
      for await (const page of graphPages(ctx, o, window.start, window.end)) rows.push(...page);
      rows.sort((a, b) => String(a['receivedDateTime']).localeCompare(String(b['receivedDateTime'])));
      let fetched = 0;
      let events = 0;
      for (const row of rows) {
        if (ctx.signal.aborted) return { unfinished: true };
        const key = graphDedupKey(row);
        if (detailed.has(key) || (statuses && !statuses.has(String(row['status']).toLowerCase()))) continue;
        const id = row['id'];
        const recipient = row['recipientAddress'];
        if (typeof id !== 'string' || id === '' || typeof recipient !== 'string' || recipient === '') {
          ctx.log.warning('A message trace row without id or recipientAddress has no details to ask for; skipped');
          continue;
        }
        const details = await fetchDetails(ctx, o, id, recipient);
        fetched++;
        events += details.length;
        detailed.add(key);
        if (details.length > 0) yield details;
      }
      const kept = [...detailed].slice(-DETAILED_ROWS_KEPT);
      detailed = new Set(kept);
      ctx.extra[DETAILED_ROWS_KEY] = kept as JsonValue;
      return { note: `${rows.length} trace row(s), details asked for ${fetched}, ${events} detail event(s) retrieved` };
    });
  },
  // --check: the same smallest listing as the trace service (the details need a row to ask about).
  probe: graphMessageTraceService.probe,
});
