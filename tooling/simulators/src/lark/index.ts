import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, readBody } from '../http-server.js';
import { RecordTexts, TimeOrder } from '../record-texts.js';
import { FaultSchedule, type AnswerFault, type ExpireTokensFault, type GarbageFault, type SimulatorFaults, type StatusFault, type ThrottleFault } from '../faults.js';
import { auditInfoStream, type LarkAuditInfo } from './events.js';

// Lark-prefixed names only: src/index.ts re-exports every vendor's simulator with `export *`.
export { generateAuditInfos as generateLarkAuditInfos, makeAuditInfo as makeLarkAuditInfo, type LarkAuditInfo, type GenerateAuditInfosOptions as GenerateLarkAuditInfosOptions } from './events.js';

/**
 * A Lark Open Platform simulator for the behaviour audit log (vendor-apis.md §1). It enforces what the real
 * API enforces, so a collector that passes against it speaks the contract:
 * - `POST /open-apis/auth/v3/tenant_access_token/internal` with `{app_id, app_secret}`; wrong credentials
 *   give HTTP 400 `{code: 10014}` (secret) or `{code: 10003}` (app id). A token comes back unchanged while
 *   it has at least half its life (at most 30 min) left, like Lark.
 * - `GET /open-apis/admin/v1/audit_infos` needs `Authorization: Bearer <token>`; an expired or revoked
 *   token gives `{code: 99991663}` (HTTP 400 by default, `invalidTokenStatus` for 401).
 * - `oldest`/`latest` are epoch seconds, both inclusive; latest defaults to now, oldest to latest − 30 d;
 *   oldest > latest or a span over 30 days gives HTTP 400 `{code: 1050001}`.
 * - `page_size` 1–200 (default 20), else HTTP 400 `{code: 1050005}`; `page_token` only as returned for the
 *   same query, else HTTP 400 `{code: 1050006}`; `has_more` + `page_token` paging.
 * - A rolling per-app limit (`rateLimitPerMinute`, default 100): HTTP 429, `x-ogw-ratelimit-limit`,
 *   `x-ogw-ratelimit-reset` (seconds) and `{code: 99991400, msg: "request trigger frequency limit"}`.
 * `faults.inject` (see `LarkFault`) answers throttling, 5xx, garbage bodies, any Lark error and token expiry;
 * `addEvents` adds late events; `events` and `requests` are the ground truth for assertions. Events are kept
 * as their JSON text as added (`RecordTexts`): changing an event object afterwards changes nothing served.
 */
export interface LarkSimulatorOptions {
  appId: string;
  appSecret: string;
  /** Initial events (any order). */
  events?: LarkAuditInfo[];
  /** Deterministic events on top of `events`: `count` spread over [from, to] (default the last 24 h). */
  generate?: { count: number; from?: Date; to?: Date };
  seed?: number;
  /** The `expire` of issued tokens. Default 7200 (Lark's two hours). */
  tokenTtlSeconds?: number;
  /** audit_infos requests per rolling minute per app; 0 disables the limit. Default 100. */
  rateLimitPerMinute?: number;
  /** HTTP status of an invalid-token answer (Lark has been seen to use both). Default 400. */
  invalidTokenStatus?: 400 | 401;
  /** Item order inside a query's result. Default `desc` (newest first), so no collector relies on order. */
  order?: 'asc' | 'desc';
  /** The simulator's clock (tests of the time filter). Default Date.now. */
  clock?: () => number;
}

export interface LarkRequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  /** The body `code` the simulator answered with (0 = success). */
  code: number | undefined;
  /** Number of items returned (audit_infos only). */
  items?: number;
  at: number;
}

/**
 * The faults of the Lark simulator, on `audit_infos` (default) or `token`: `status` is code 1050002 "DB error"
 * with that HTTP status; `throttle` is code 99991400 with `x-ogw-ratelimit-reset: retryAfter`, at HTTP 429 or
 * the 400/200 some Lark APIs use; `garbage` is an HTML gateway page with HTTP 200; `answer` any Lark error
 * (e.g. `{status: 400, body: {code: 99991672, msg: 'Access denied...'}}` for a missing scope);
 * `expire-tokens` revokes every token issued.
 */
export type LarkFault = StatusFault | (ThrottleFault & { status?: 429 | 400 | 200 }) | GarbageFault | AnswerFault | ExpireTokensFault;
export type LarkEndpoint = 'audit_infos' | 'token';

export interface LarkSimulator {
  url: string;
  close(): Promise<void>;
  /** Ground truth: every event the API holds, ordered by event_time (new objects at each read). */
  readonly events: readonly LarkAuditInfo[];
  /** Ground truth: every event's `unique_id`, ordered as `events`, read from the events' text (no objects). */
  eventIds(): string[];
  /** Every request served, in order. */
  readonly requests: readonly LarkRequestLogEntry[];
  /** The audit_infos requests only. */
  auditRequests(): LarkRequestLogEntry[];
  /** Number of tokens issued (a reused token is not counted again). */
  readonly tokensIssued: number;
  /** Every token value issued, so tests can assert none of them reached a log line or a state file. */
  readonly issuedTokens: readonly string[];
  /** Adds events after the fact (late events: an old event_time that arrives now). */
  addEvents(...events: LarkAuditInfo[]): void;
  /** Events with oldest <= event_time <= latest (epoch seconds). */
  eventsBetween(oldestSeconds: number, latestSeconds: number): LarkAuditInfo[];
  faults: SimulatorFaults<LarkFault, LarkEndpoint>;
}

const DAY_SECONDS = 86_400;
const MAX_SPAN_SECONDS = 30 * DAY_SECONDS;
const MAX_PAGE_SIZE = 200;
const DEFAULT_PAGE_SIZE = 20;
const TOKEN_PATH = '/open-apis/auth/v3/tenant_access_token/internal';
const AUDIT_PATH = '/open-apis/admin/v1/audit_infos';

interface IssuedToken {
  value: string;
  appId: string;
  expiresAt: number;
  revoked: boolean;
}

interface PageCursor {
  /** The query the token belongs to. */
  q: string;
  /** Offset of the next item. */
  i: number;
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

function lark(status: number, code: number, msg: string, headers: Record<string, string> = {}): HttpAnswer {
  return new HttpAnswer(status, { code, msg }, headers);
}

/** The envelope of a page whose items are stored JSON texts (`HttpAnswer.body`). */
class JsonBytes {
  constructor(readonly bytes: Buffer) {}
}

export async function startLarkSimulator(options: LarkSimulatorOptions): Promise<LarkSimulator> {
  const clock = options.clock ?? Date.now;
  const ttl = options.tokenTtlSeconds ?? 7200;
  const limit = options.rateLimitPerMinute ?? 100;
  const order = options.order ?? 'desc';
  // Every event's text (ids in the order added) and their order by (event_time, unique_id), as Lark sorts.
  const texts = new RecordTexts();
  const uniqueId = (id: number) => String(texts.field(id, 'unique_id'));
  const byTime = new TimeOrder((a, b) => {
    const ua = uniqueId(a);
    const ub = uniqueId(b);
    return ua < ub ? -1 : ua > ub ? 1 : 0;
  });
  const add = (event: LarkAuditInfo) => byTime.add(event.event_time, Number.NEGATIVE_INFINITY, texts.add(event));
  for (const event of options.events ?? []) add(event);
  if (options.generate) {
    const to = options.generate.to ?? new Date(clock());
    const from = options.generate.from ?? new Date(to.getTime() - DAY_SECONDS * 1000);
    for (const event of auditInfoStream({ count: options.generate.count, fromSeconds: Math.floor(from.getTime() / 1000), toSeconds: Math.floor(to.getTime() / 1000), seed: options.seed ?? 1 })) add(event);
  }
  /** Record ids at sorted positions [lo, hi). */
  const idsAt = (lo: number, hi: number) => Array.from({ length: Math.max(0, hi - lo) }, (_, k) => byTime.idAt(lo + k));
  const requests: LarkRequestLogEntry[] = [];
  const tokens = new Map<string, IssuedToken>();
  let tokensIssued = 0;
  const recentRequests: number[] = [];
  const faults = new FaultSchedule<LarkFault, LarkEndpoint>({ kinds: ['status', 'throttle', 'garbage', 'answer', 'expire-tokens'], endpoint: 'audit_infos' });

  function issueToken(appId: string): { value: string; expire: number } {
    const now = clock();
    // Lark hands back the same token while enough of its life is left (≥30 min of 2 h).
    const keepThresholdMs = Math.min(1800, ttl / 2) * 1000;
    for (const token of tokens.values()) {
      if (token.appId === appId && !token.revoked && token.expiresAt - now >= keepThresholdMs) {
        return { value: token.value, expire: Math.floor((token.expiresAt - now) / 1000) };
      }
    }
    const value = `t-${randomBytes(20).toString('hex')}`;
    tokens.set(value, { value, appId, expiresAt: now + ttl * 1000, revoked: false });
    tokensIssued++;
    return { value, expire: ttl };
  }

  async function handleToken(req: IncomingMessage): Promise<HttpAnswer> {
    if (req.method !== 'POST') return lark(405, 404, 'method not allowed');
    const fault = faults.take('token');
    if (fault?.kind === 'expire-tokens') revokeTokens();
    else if (fault) return faultAnswer(fault);
    let body: { app_id?: unknown; app_secret?: unknown };
    try {
      body = JSON.parse((await readBody(req)).toString('utf8')) as typeof body;
    } catch {
      return lark(400, 9499, 'Bad Request');
    }
    if (body.app_id !== options.appId) return lark(400, 10003, 'invalid param');
    if (body.app_secret !== options.appSecret) return lark(400, 10014, 'app secret invalid');
    const token = issueToken(options.appId);
    return new HttpAnswer(200, { code: 0, msg: 'ok', tenant_access_token: token.value, expire: token.expire });
  }

  function checkToken(req: IncomingMessage): HttpAnswer | undefined {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match) return lark(options.invalidTokenStatus ?? 400, 99991661, 'Missing access token for authorization. Please make a request with token attached.');
    const token = tokens.get(match[1]!);
    if (!token || token.revoked || token.expiresAt <= clock()) {
      return lark(options.invalidTokenStatus ?? 400, 99991663, 'Invalid access token for authorization. Please make a request with token attached.');
    }
    return undefined;
  }

  function throttle(status: number, resetSeconds: number): HttpAnswer {
    return lark(status, 99991400, 'request trigger frequency limit', {
      'x-ogw-ratelimit-limit': String(limit || 100),
      'x-ogw-ratelimit-reset': String(resetSeconds),
    });
  }

  function revokeTokens(): void {
    for (const token of tokens.values()) token.revoked = true;
  }

  function faultAnswer(fault: Exclude<LarkFault, ExpireTokensFault>): HttpAnswer {
    switch (fault.kind) {
      case 'status':
        return lark(fault.status, 1050002, 'DB error');
      case 'throttle':
        return throttle(fault.status ?? 429, fault.retryAfter ?? 1);
      case 'garbage':
        return new HttpAnswer(200, '<html><body>502 Bad Gateway</body></html>');
      case 'answer':
        return new HttpAnswer(fault.status, fault.body, fault.headers);
    }
  }

  function rateLimited(): HttpAnswer | undefined {
    if (limit <= 0) return undefined;
    const now = clock();
    while (recentRequests.length && recentRequests[0]! <= now - 60_000) recentRequests.shift();
    if (recentRequests.length >= limit) return throttle(429, Math.max(1, Math.ceil((recentRequests[0]! + 60_000 - now) / 1000)));
    recentRequests.push(now);
    return undefined;
  }

  /** Record ids of one page of the events at sorted positions [lo, hi) in `order`, without copying the whole range. */
  function page(lo: number, hi: number, eventName: string, offset: number, pageSize: number): { items: number[]; total: number } {
    if (eventName) {
      const matching = idsAt(lo, hi).filter((id) => texts.field(id, 'event_name') === eventName);
      if (order === 'desc') matching.reverse();
      return { items: matching.slice(offset, offset + pageSize), total: matching.length };
    }
    const total = hi - lo;
    if (order === 'asc') return { items: idsAt(lo + offset, Math.min(hi, lo + offset + pageSize)), total };
    return { items: idsAt(Math.max(lo, hi - offset - pageSize), Math.max(lo, hi - offset)).reverse(), total };
  }

  function intParam(url: URL, name: string): number | undefined | null {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === '') return undefined;
    return /^-?\d+$/.test(raw) ? Number(raw) : null;
  }

  function handleAudit(req: IncomingMessage, url: URL, entry: LarkRequestLogEntry): HttpAnswer {
    if (req.method !== 'GET') return lark(405, 404, 'method not allowed');
    const fault = faults.take('audit_infos');
    if (fault?.kind === 'expire-tokens') revokeTokens();
    // Lark's gateway throttles before it looks at the token; the API's own errors come after the token check.
    if (fault?.kind === 'throttle') return faultAnswer(fault);
    const limited = rateLimited();
    if (limited) return limited;
    const denied = checkToken(req);
    if (denied) return denied;
    if (fault && fault.kind !== 'expire-tokens') return faultAnswer(fault);
    const pageSize = intParam(url, 'page_size') ?? DEFAULT_PAGE_SIZE;
    if (pageSize === null || pageSize < 1 || pageSize > MAX_PAGE_SIZE) return lark(400, 1050005, 'page_size is invalid');
    const nowSeconds = Math.floor(clock() / 1000);
    const latest = intParam(url, 'latest') ?? nowSeconds;
    const oldest = intParam(url, 'oldest') ?? (latest === null ? null : latest - MAX_SPAN_SECONDS);
    if (latest === null || oldest === null || oldest > latest || latest - oldest > MAX_SPAN_SECONDS) {
      return lark(400, 1050001, 'TIME_CHECK_NOT_VALID');
    }
    const eventName = url.searchParams.get('event_name') ?? '';
    const query = `${oldest}:${latest}:${eventName}`;
    let offset = 0;
    const pageToken = url.searchParams.get('page_token');
    if (pageToken) {
      let cursor: PageCursor | undefined;
      try {
        cursor = JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8')) as PageCursor;
      } catch {
        cursor = undefined;
      }
      if (!cursor || cursor.q !== query || typeof cursor.i !== 'number') return lark(400, 1050006, 'page_token is invalid');
      offset = cursor.i;
    }
    const { items, total } = page(byTime.firstAt(oldest), byTime.firstAt(latest + 1), eventName, offset, pageSize);
    const hasMore = offset + pageSize < total;
    const nextToken = hasMore ? Buffer.from(JSON.stringify({ q: query, i: offset + pageSize } satisfies PageCursor)).toString('base64url') : undefined;
    entry.items = items.length;
    // JSON.stringify of {code: 0, msg: 'success', data: {has_more, items, page_token?}}, each item as its stored text.
    const tail = nextToken === undefined ? ']}}' : `],"page_token":${JSON.stringify(nextToken)}}}`;
    return new HttpAnswer(200, new JsonBytes(texts.join([`{"code":0,"msg":"success","data":{"has_more":${hasMore},"items":[`, items, tail])));
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const entry: LarkRequestLogEntry = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, code: undefined, at: clock() };
    requests.push(entry);
    let answer: HttpAnswer;
    if (url.pathname === TOKEN_PATH) answer = await handleToken(req);
    else if (url.pathname === AUDIT_PATH) answer = handleAudit(req, url, entry);
    else answer = lark(404, 404, 'not found');
    entry.status = answer.status;
    const raw = answer.body instanceof JsonBytes;
    const body = answer.body instanceof JsonBytes ? answer.body.bytes : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    entry.code = raw ? 0 : typeof answer.body === 'object' && answer.body !== null ? (answer.body as { code?: number }).code : undefined;
    res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/html' : 'application/json; charset=utf-8', ...answer.headers });
    res.end(body);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  server.keepAliveTimeout = 1000;
  const { url } = await listenOnLoopback(server);

  return {
    url,
    close: () => closeServer(server),
    get events() {
      return byTime.ids().map((id) => texts.parse<LarkAuditInfo>(id));
    },
    eventIds: () => byTime.ids().map(uniqueId),
    requests,
    auditRequests: () => requests.filter((r) => r.path === AUDIT_PATH),
    get tokensIssued() {
      return tokensIssued;
    },
    get issuedTokens() {
      return [...tokens.keys()];
    },
    addEvents(...added) {
      for (const event of added) add(event);
    },
    eventsBetween(oldestSeconds, latestSeconds) {
      return idsAt(byTime.firstAt(oldestSeconds), byTime.firstAt(latestSeconds + 1)).map((id) => texts.parse<LarkAuditInfo>(id));
    },
    faults,
  };
}

