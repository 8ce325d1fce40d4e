import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, readBody } from '../http-server.js';
import { RecordTexts, TimeOrder } from '../record-texts.js';
import { FaultSchedule, type ExpireTokensFault, type GarbageFault, type SimulatorFaults, type StatusFault, type ThrottleFault } from '../faults.js';
import { O365TokenIssuer, type O365Audience } from './tokens.js';
import { o365TraceStream, toGraphDetails, toGraphRow, toRwsLightRow, toRwsVerboseRow, type GenerateO365TracesOptions, type O365TraceRow } from './traces.js';

// O365-prefixed names only: src/index.ts re-exports every vendor's simulator with `export *`.
export { generateO365Traces, toGraphRow as toO365GraphRow, toGraphDetails as toO365GraphDetails, toRwsLightRow as toO365RwsLightRow, type O365TraceRow, type O365TraceStatus, type GenerateO365TracesOptions } from './traces.js';

/**
 * Microsoft 365 message trace simulator (vendor-apis.md §2): both Entra token endpoints, the legacy Reporting
 * Web Service `MessageTrace` and Graph `messageTraces`. It enforces what the real services enforce:
 * - Tokens: `POST /{tenant}/oauth2/token` (v1, `resource`) and `POST /{tenant}/oauth2/v2.0/token` (v2,
 *   `scope=<resource>/.default`), client credentials only. Unknown tenant → 400 AADSTS90002, unknown client →
 *   400 AADSTS700016, wrong secret → 401 `invalid_client` AADSTS7000215, unknown resource → 400 AADSTS500011.
 *   A token is valid for one audience (RWS or Graph) and `tokenLifetimeSeconds`.
 * - RWS: `GET /ecp/reportingwebservice/reporting.svc/MessageTrace` with `$filter=StartDate eq datetime'..'
 *   and EndDate eq datetime'..'` (both inclusive), `$format=json` (else an Atom feed), `$top` (server page
 *   at most `rwsServerPageSize`) and numeric `$skiptoken` offsets; a next link (`odata.nextLink`, or
 *   `d.__next` verbose) when `rwsNextLink` is on or the server capped the page. JSON light (`value`) or
 *   verbose (`d.results`, `/Date(ms)/`) per `rwsShape`. A missing, expired or wrong-audience token → 401 IIS
 *   HTML page; `rwsForbidden` → 403 `{"ErrorCode":"","Message":"No permission to access the report for the
 *   organization ."}`. Rows older than 30 days are gone.
 * - Graph: `GET /{v1.0|beta}/admin/exchange/tracing/messageTraces`, `$filter=receivedDateTime ge X and
 *   receivedDateTime le Y` (`YYYY-MM-DDThh:mm:ssZ`, span ≤ 10 d, start ≥ now − 90 d, end ≤ now, else 400
 *   with a Graph error body), no filter = last 48 h, `$top` 1–5000 (default 1000), newest first,
 *   `@odata.nextLink` with an opaque `$skiptoken` (a snapshot: late rows do not shift a paging run), and the
 *   tenant throttle (`graphThrottle`, default 100 requests / rolling 5 min) → 429 with `Retry-After`.
 *   401 `InvalidAuthenticationToken` JSON for a bad token; `graphForbidden` → 403; status `recalled` only with
 *   `Prefer: include-unknown-enum-members`, else `unknownFutureValue`.
 * - Graph details: `GET .../messageTraces/{id}/getDetailsByRecipient(recipientAddress='<address>')` (an OData
 *   function: the address is a quoted string literal, `'` doubled; no paging), answering
 *   `{"value": [exchangeMessageTraceDetail...]}` (`id` = the message trace id, `messageId`, `dateTime`,
 *   `event`, `action`, `description`, `data`): `Receive` plus what the row's status implies. Same token,
 *   same tenant throttle as the list (the 100 per 5 min are shared). An id or recipient it does not know →
 *   404 `ResourceNotFound`; no `recipientAddress` → 400.
 * Rows become visible at `visibleAt` (late rows). Faults: `faults.inject` (see `O365Fault`). Ground truth:
 * `rows`, `requests`. Rows are kept as their JSON text as added, with their Graph form beside it (`RecordTexts`):
 * a Graph page is those texts joined; changing a row object after adding it changes nothing served.
 */
export interface O365SimulatorOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Explicit rows (any order). */
  rows?: O365TraceRow[];
  /** Deterministic rows on top of `rows`. */
  generate?: Omit<GenerateO365TracesOptions, 'seed'>;
  seed?: number;
  /** Default 3599 (Entra's usual hour minus a second). */
  tokenLifetimeSeconds?: number;
  /** Default `light` (`{"value": [...]}`); `verbose` = `{"d": {"results": [...]}}` with `/Date(ms)/`. */
  rwsShape?: 'light' | 'verbose';
  /** Add a next link to every RWS page that has more rows. Default false (clients page with $skiptoken). */
  rwsNextLink?: boolean;
  /** The most rows one RWS page holds, whatever `$top` says. Default 2000. */
  rwsServerPageSize?: number;
  /** Graph requests per rolling window per tenant. Default 100 per 300 000 ms; limit 0 disables. */
  graphThrottle?: { limit: number; windowMs: number };
  /** The simulator's clock. Default Date.now. */
  clock?: () => number;
}

export interface O365RequestLogEntry {
  api: 'token-v1' | 'token-v2' | 'rws' | 'rws-service' | 'graph' | 'graph-detail' | 'unknown';
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  /** Rows returned. */
  rows?: number;
  /** The parsed time filter (epoch ms) of a data request. */
  filter?: { start: number; end: number };
  at: number;
}

/**
 * The faults of the Microsoft 365 simulator, on `graph` (default: the messageTraces list), `graph-detail`,
 * `rws` or `token` (both Entra endpoints): `status` is that HTTP status with Graph's error body (plain text
 * on RWS and the token endpoints); `throttle` a 429 with `Retry-After`; `garbage` a 200 with truncated JSON;
 * `expire-tokens` makes every issued token expired (answered as Graph/RWS answer an expired token).
 */
export type O365Fault = StatusFault | ThrottleFault | GarbageFault | ExpireTokensFault;
export type O365Endpoint = 'graph' | 'graph-detail' | 'rws' | 'token';

export interface O365Simulator {
  url: string;
  /** Every row, sorted by received time (the ground truth; new objects at each read). */
  readonly rows: readonly O365TraceRow[];
  /** `messageTraceId|recipient` of every row, ordered as `rows`, read from the rows' text (no objects). */
  rowIdentities(): string[];
  requests: O365RequestLogEntry[];
  faults: SimulatorFaults<O365Fault, O365Endpoint>;
  /** Knobs that can change mid-test. */
  settings: {
    rwsShape: 'light' | 'verbose';
    rwsNextLink: boolean;
    rwsForbidden: boolean;
    rwsUnauthorized: boolean;
    graphForbidden: boolean;
    graphThrottle: { limit: number; windowMs: number };
  };
  /** Rows visible now with received time in [start, end] (both inclusive), as a client should collect them. */
  visibleRows(start: number, end: number): O365TraceRow[];
  addRows(rows: O365TraceRow[]): void;
  readonly tokensIssued: number;
  close(): Promise<void>;
}

const DAY = 86_400_000;
const RWS_PATH = '/ecp/reportingwebservice/reporting.svc';
const RWS_UNAUTHORIZED_HTML = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
<title>401 - Unauthorized: Access is denied due to invalid credentials.</title>
</head>
<body>
<div id="header"><h1>Server Error</h1></div>
<div id="content">
 <div class="content-container"><fieldset>
  <h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>
  <h3>You do not have permission to view this directory or page using the credentials that you supplied.</h3>
 </fieldset></div>
</div>
</body>
</html>
`;
const GRAPH_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z$/;

/** A Graph answer already serialised (its rows' stored texts joined): sent as JSON, as is. */
class JsonBytes {
  constructor(readonly bytes: Buffer) {}
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body instanceof JsonBytes ? body.bytes : typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? (body.startsWith('<') ? 'text/html' : 'text/plain') : 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
  res.writeHead(status, { 'content-type': type, ...headers }).end(text);
}

function graphError(status: number, code: string, message: string): { status: number; body: unknown } {
  return { status, body: { error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d{3}Z$/, ''), 'request-id': '00000000-0000-0000-0000-000000000000', 'client-request-id': '00000000-0000-0000-0000-000000000000' } } } };
}

function parseRwsTime(value: string): number | undefined {
  // OData v2 datetime literal: no zone means UTC; up to 7 fractional digits.
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)(Z)?$/.exec(value);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]!.replace(/(\.\d{3})\d+$/, '$1')}Z`);
  return Number.isNaN(t) ? undefined : t;
}

export async function startO365Simulator(options: O365SimulatorOptions): Promise<O365Simulator> {
  const clock = options.clock ?? Date.now;
  // Each row's text, and its Graph form (as sent without `Prefer: include-unknown-enum-members`) under the
  // same id; their order by received time (equal times in the order added, as the stable sort before).
  const rowTexts = new RecordTexts();
  const graphTexts = new RecordTexts();
  const byTime = new TimeOrder();
  const addRow = (row: O365TraceRow) => {
    const id = rowTexts.add(row);
    graphTexts.add(toGraphRow(row));
    byTime.add(row.received, row.visibleAt, id);
  };
  for (const row of options.rows ?? []) addRow(row);
  if (options.generate) for (const row of o365TraceStream({ ...options.generate, seed: options.seed ?? 365 })) addRow(row);
  const rowOf = (id: number) => rowTexts.parse<O365TraceRow>(id);
  const requests: O365RequestLogEntry[] = [];
  const faults = new FaultSchedule<O365Fault, O365Endpoint>({ kinds: ['status', 'throttle', 'garbage', 'expire-tokens'], endpoint: 'graph' });
  const settings = {
    rwsShape: options.rwsShape ?? 'light',
    rwsNextLink: options.rwsNextLink ?? false,
    rwsForbidden: false,
    rwsUnauthorized: false,
    graphForbidden: false,
    graphThrottle: options.graphThrottle ?? { limit: 100, windowMs: 300_000 },
  } as O365Simulator['settings'];
  const graphRequestTimes: number[] = [];
  let baseUrl = '';
  const issuer = new O365TokenIssuer({
    tenantId: options.tenantId,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    rwsResource: 'https://outlook.office365.com',
    graphResource: 'https://graph.microsoft.com',
    lifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    clock,
  });

  /** Ids of the rows visible at `asOf` with received time in [start, end] (both inclusive), by received time. */
  const visibleRows = (start: number, end: number, asOf = clock()): number[] => byTime.between(start, end, asOf, true);

  /** The answer of an injected fault (expiry is not an answer: the request then meets an expired token). */
  type Answer = { status: number; body: unknown; headers?: Record<string, string> };
  const faultAnswer = (api: 'rws' | 'graph' | 'token', fault: O365Fault | undefined): Answer | undefined => {
    switch (fault?.kind) {
      case 'status': {
        const text = STATUS_CODES[fault.status] ?? 'Error';
        return { status: fault.status, body: api === 'graph' ? graphError(fault.status, text.replace(/\W/g, ''), fault.status === 500 ? 'An internal server error occurred.' : `${text}.`).body : text };
      }
      case 'throttle':
        return { status: 429, body: api === 'graph' ? graphError(429, 'TooManyRequests', 'Too many requests.').body : 'Too Many Requests', headers: { 'retry-after': String(fault.retryAfter ?? 1) } };
      case 'garbage':
        return { status: 200, body: '{"value":[{"truncated' };
      default:
        return undefined;
    }
  };

  const tokenRoute = async (req: IncomingMessage, version: 'v1' | 'v2', tenant: string, fault: O365Fault | undefined) => {
    const injected = faultAnswer('token', fault);
    if (injected) return injected;
    if (req.method !== 'POST') return { status: 405, body: { error: 'invalid_request', error_description: 'AADSTS900561: The endpoint only accepts POST requests.' } };
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    return issuer.issue(version, decodeURIComponent(tenant), form);
  };

  const rwsRoute = (req: IncomingMessage, url: URL, entry: O365RequestLogEntry, fault: O365Fault | undefined) => {
    const auth = issuer.check(req.headers.authorization, 'rws');
    if (auth !== 'ok' || settings.rwsUnauthorized) return { status: 401, body: RWS_UNAUTHORIZED_HTML, headers: { 'www-authenticate': 'Bearer' } };
    if (settings.rwsForbidden) return { status: 403, body: { ErrorCode: '', Message: 'No permission to access the report for the organization .' } };
    const injected = faultAnswer('rws', fault);
    if (injected) return injected;
    const q = url.searchParams;
    const odataError = (message: string) => ({ status: 400, body: { 'odata.error': { code: '', message: { lang: 'en-US', value: message } } } });
    const now = clock();
    let start = now - 2 * DAY;
    let end = now;
    const filter = q.get('$filter');
    if (filter !== null) {
      const s = /StartDate eq datetime'([^']*)'/.exec(filter);
      const e = /EndDate eq datetime'([^']*)'/.exec(filter);
      if (e && !s) return odataError('EndDate requires StartDate.');
      if (!s || !/^\s*(StartDate|EndDate) eq datetime'[^']*'\s+and\s+(StartDate|EndDate) eq datetime'[^']*'\s*$/.test(filter) && !/^\s*StartDate eq datetime'[^']*'\s*$/.test(filter)) {
        return odataError(`The query specified in the URI is not valid: ${filter}`);
      }
      const parsedStart = parseRwsTime(s[1]!);
      const parsedEnd = e ? parseRwsTime(e[1]!) : now;
      if (parsedStart === undefined || parsedEnd === undefined) return odataError('Unrecognized \'Edm.DateTime\' literal.');
      if (parsedStart > parsedEnd) return odataError('StartDate must be before EndDate.');
      start = parsedStart;
      end = parsedEnd;
    }
    entry.filter = { start, end };
    if ((q.get('$format') ?? '').toLowerCase() !== 'json') {
      return { status: 200, body: `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title type="text">MessageTrace</title></feed>`, headers: { 'content-type': 'application/atom+xml' } };
    }
    const topText = q.get('$top');
    const top = topText === null ? Infinity : Number(topText);
    if (!Number.isInteger(top) && top !== Infinity) return odataError(`Invalid $top value '${topText}'.`);
    if (top < 0) return odataError(`Invalid $top value '${topText}'.`);
    const skipText = q.get('$skiptoken') ?? '0';
    const skip = Number(skipText);
    if (!Number.isInteger(skip) || skip < 0) return odataError(`Invalid $skiptoken value '${skipText}'.`);
    // Rows older than 30 days are purged; the newest come first.
    const matching = visibleRows(Math.max(start, now - 30 * DAY), end, now).reverse();
    const pageSize = Math.min(top, options.rwsServerPageSize ?? 2000);
    const page = matching.slice(skip, skip + pageSize);
    entry.rows = page.length;
    const more = skip + page.length < matching.length;
    let next: string | undefined;
    if (more && (settings.rwsNextLink || pageSize < top)) {
      const link = new URL(url.toString());
      link.searchParams.set('$skiptoken', String(skip + page.length));
      next = `${baseUrl}${link.pathname}?${link.searchParams.toString()}`;
    }
    const query = { start, end };
    if (settings.rwsShape === 'verbose') {
      const svc = `${baseUrl}${RWS_PATH}`;
      return { status: 200, body: { d: { results: page.map((id, i) => toRwsVerboseRow(rowOf(id), query, skip + i, svc)), ...(next ? { __next: next } : {}) } } };
    }
    return {
      status: 200,
      body: {
        'odata.metadata': `${baseUrl}/ecp/ReportingWebService/Reporting.svc/$metadata#MessageTrace`,
        value: page.map((id, i) => toRwsLightRow(rowOf(id), query, skip + i)),
        ...(next ? { 'odata.nextLink': next } : {}),
      },
    };
  };

  /** Token, tenant throttle (shared by traces and details), permission and injected faults of a Graph request. */
  const graphGate = (req: IncomingMessage, fault: O365Fault | undefined): Answer | undefined => {
    const auth = issuer.check(req.headers.authorization, 'graph');
    if (auth === 'missing') return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    if (auth !== 'ok') return graphError(401, 'InvalidAuthenticationToken', auth === 'expired' ? 'Lifetime validation failed, the token is expired.' : 'Access token validation failure. Invalid audience.');
    const now = clock();
    const throttle = settings.graphThrottle;
    if (throttle.limit > 0) {
      while (graphRequestTimes.length > 0 && graphRequestTimes[0]! <= now - throttle.windowMs) graphRequestTimes.shift();
      if (graphRequestTimes.length >= throttle.limit) {
        const retryAfter = Math.max(1, Math.ceil((graphRequestTimes[0]! + throttle.windowMs - now) / 1000));
        const answer = graphError(429, 'TooManyRequests', 'The request has been throttled. Message trace allows 100 requests per 5 minutes per tenant.');
        return { ...answer, headers: { 'retry-after': String(retryAfter) } };
      }
      graphRequestTimes.push(now);
    }
    if (settings.graphForbidden) return graphError(403, 'Forbidden', "Missing role permissions on the request. API requires one of 'ExchangeMessageTrace.Read.All'. Roles on the request ''.");
    return faultAnswer('graph', fault);
  };

  const detailRoute = (req: IncomingMessage, id: string, call: string, entry: O365RequestLogEntry, fault: O365Fault | undefined) => {
    const gate = graphGate(req, fault);
    if (gate) return gate;
    const m = /^getDetailsByRecipient\(recipientAddress='((?:[^']|'')*)'\)$/i.exec(call);
    if (!m) return graphError(400, 'BadRequest', "getDetailsByRecipient requires the parameter recipientAddress='<address>'.");
    const recipient = m[1]!.replace(/''/g, "'");
    const now = clock();
    // Only the rows whose text names the message are parsed.
    const needle = Buffer.from(JSON.stringify(id));
    const row = byTime
      .ids()
      .filter((rowId) => rowTexts.bytes(rowId).includes(needle))
      .map(rowOf)
      .find((r) => r.messageTraceId === id && r.recipient.toLowerCase() === recipient.toLowerCase() && r.visibleAt <= now);
    if (!row) return graphError(404, 'ResourceNotFound', `No message trace ${id} for recipient ${recipient}.`);
    const value = toGraphDetails(row);
    entry.rows = value.length;
    return { status: 200, body: { '@odata.context': `${baseUrl}/v1.0/$metadata#Collection(microsoft.graph.exchangeMessageTraceDetail)`, value } };
  };

  const graphRoute = (req: IncomingMessage, url: URL, entry: O365RequestLogEntry, fault: O365Fault | undefined) => {
    const gate = graphGate(req, fault);
    if (gate) return gate;
    const now = clock();
    const q = url.searchParams;
    const topText = q.get('$top');
    const top = topText === null ? 1000 : Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > 5000) return graphError(400, 'BadRequest', `Invalid value '${topText}' for $top: it must be between 1 and 5000.`);
    let start: number;
    let end: number;
    let offset = 0;
    let asOf = now;
    const token = q.get('$skiptoken');
    if (token !== null) {
      try {
        const state = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o: number; s: number; e: number; a: number };
        if (![state.o, state.s, state.e, state.a].every(Number.isFinite)) throw new Error('bad');
        ({ o: offset, s: start, e: end, a: asOf } = state);
      } catch {
        return graphError(400, 'BadRequest', 'Invalid skip token.');
      }
    } else {
      const filter = q.get('$filter');
      if (filter === null) {
        start = now - 2 * DAY;
        end = now;
      } else {
        const ge = /receivedDateTime ge (\S+)/.exec(filter);
        const le = /receivedDateTime le (\S+)/.exec(filter);
        if (!ge || !le) return graphError(400, 'BadRequest', 'The filter must contain both receivedDateTime ge and receivedDateTime le.');
        const gm = GRAPH_TIME.exec(ge[1]!);
        const lm = GRAPH_TIME.exec(le[1]!);
        if (!gm || !lm) return graphError(400, 'BadRequest', `Invalid receivedDateTime format: expected YYYY-MM-DDThh:mm:ssZ, got '${gm ? le[1] : ge[1]}'.`);
        start = Date.parse(`${gm[1]}Z`);
        end = Date.parse(`${lm[1]}Z`);
        if (Number.isNaN(start) || Number.isNaN(end)) return graphError(400, 'BadRequest', 'Invalid receivedDateTime value.');
        if (start > end) return graphError(400, 'BadRequest', 'The start date must be before the end date.');
        if (end - start > 10 * DAY) return graphError(400, 'BadRequest', 'The date range cannot exceed 10 days.');
        if (start < now - 90 * DAY) return graphError(400, 'BadRequest', 'The start date cannot be more than 90 days in the past.');
        if (end > now) return graphError(400, 'BadRequest', 'The end date cannot be in the future.');
      }
    }
    entry.filter = { start, end };
    const matching = visibleRows(start, end, asOf).reverse();
    const page = matching.slice(offset, offset + top);
    entry.rows = page.length;
    const context = `${baseUrl}/v1.0/$metadata#admin/exchange/tracing/messageTraces`;
    let nextLink: string | undefined;
    if (offset + page.length < matching.length) {
      const skiptoken = Buffer.from(JSON.stringify({ o: offset + page.length, s: start, e: end, a: asOf })).toString('base64url');
      const link = new URLSearchParams();
      const filter = q.get('$filter');
      if (filter !== null) link.set('$filter', filter);
      link.set('$top', String(top));
      link.set('$skiptoken', skiptoken);
      nextLink = `${baseUrl}${url.pathname}?${link.toString().replace(/\+/g, '%20')}`;
    }
    if (/include-unknown-enum-members/i.test(String(req.headers['prefer'] ?? ''))) {
      // The rare form (`recalled` as itself): rendered from the rows.
      const value = page.map((id) => toGraphRow(rowOf(id), true));
      return { status: 200, body: { '@odata.context': context, value, ...(nextLink === undefined ? {} : { '@odata.nextLink': nextLink }) } };
    }
    // JSON.stringify of {'@odata.context', value, '@odata.nextLink'?}, each row as its stored Graph text.
    const tail = nextLink === undefined ? ']}' : `],"@odata.nextLink":${JSON.stringify(nextLink)}}`;
    return { status: 200, body: new JsonBytes(graphTexts.join([`{"@odata.context":${JSON.stringify(context)},"value":[`, page, tail])) };
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sim');
      const entry: O365RequestLogEntry = { api: 'unknown', method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, at: clock() };
      let answer: { status: number; body: unknown; headers?: Record<string, string> };
      const token = /^\/([^/]+)\/oauth2\/(v2\.0\/)?token$/.exec(url.pathname);
      const lower = url.pathname.toLowerCase().replace(/\/+$/, '');
      entry.api = token ? (token[2] ? 'token-v2' : 'token-v1') : lower === `${RWS_PATH}/messagetrace` ? 'rws' : lower === RWS_PATH ? 'rws-service' : /\/admin\/exchange\/tracing\/messagetraces$/.test(lower) ? 'graph' : /\/admin\/exchange\/tracing\/messagetraces\/[^/]+\/[^/]+$/.test(lower) ? 'graph-detail' : 'unknown';
      const endpoint = entry.api === 'token-v1' || entry.api === 'token-v2' ? 'token' : entry.api === 'rws' || entry.api === 'graph' || entry.api === 'graph-detail' ? entry.api : undefined;
      const fault = endpoint && faults.take(endpoint);
      if (fault?.kind === 'expire-tokens') issuer.expireAll();
      if (token) {
        entry.api = token[2] ? 'token-v2' : 'token-v1';
        answer = await tokenRoute(req, token[2] ? 'v2' : 'v1', token[1]!, fault);
      } else if (lower === `${RWS_PATH}/messagetrace`) {
        entry.api = 'rws';
        answer = rwsRoute(req, url, entry, fault);
      } else if (lower === RWS_PATH) {
        entry.api = 'rws-service';
        const auth = issuer.check(req.headers.authorization, 'rws');
        answer = auth !== 'ok' ? { status: 401, body: RWS_UNAUTHORIZED_HTML } : settings.rwsForbidden
          ? { status: 403, body: { ErrorCode: '', Message: 'No permission to access the report for the organization .' } }
          : { status: 200, body: `<?xml version="1.0" encoding="utf-8"?><service xmlns:atom="http://www.w3.org/2005/Atom"><workspace><collection href="MessageTrace"><atom:title>MessageTrace</atom:title></collection></workspace></service>`, headers: { 'content-type': 'application/xml' } };
      } else if (/^\/(v1\.0|beta)\/admin\/exchange\/tracing\/messagetraces\/[^/]+\/[^/]+$/.test(lower)) {
        entry.api = 'graph-detail';
        const [id, call] = decodeURIComponent(url.pathname).split('/').slice(-2) as [string, string];
        answer = detailRoute(req, id, call, entry, fault);
      } else if (/^\/(v1\.0|beta)\/admin\/exchange\/tracing\/messagetraces$/.test(lower)) {
        entry.api = 'graph';
        answer = graphRoute(req, url, entry, fault);
      } else {
        answer = { status: 404, body: { error: { code: 'ResourceNotFound', message: `No route for ${url.pathname}` } } };
      }
      entry.status = answer.status;
      requests.push(entry);
      send(res, answer.status, answer.body, answer.headers);
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, String(error));
    });
  });
  baseUrl = (await listenOnLoopback(server)).url;

  const simulator: O365Simulator = {
    url: baseUrl,
    get rows() {
      return byTime.ids().map(rowOf);
    },
    rowIdentities: () => byTime.ids().map((id) => `${String(rowTexts.field(id, 'messageTraceId'))}|${String(rowTexts.field(id, 'recipient'))}`),
    requests,
    faults,
    settings,
    visibleRows: (start, end) => visibleRows(start, end).map(rowOf),
    addRows(extra) {
      for (const row of extra) addRow(row);
    },
    get tokensIssued() {
      return issuer.issued;
    },
    close: () => closeServer(server),
  };
  return simulator;
}
