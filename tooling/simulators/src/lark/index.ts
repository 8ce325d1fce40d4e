import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateAuditInfos, makeAuditInfo, type LarkAuditInfo } from './events.js';

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
 * Fault knobs (`faults`) inject throttling, 5xx, garbage bodies and token expiry; `addEvents` adds late
 * events; `events` and `requests` are the ground truth for assertions.
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

export interface LarkThrottleFault {
  /** 429 (default), or 400/200 as some Lark APIs do; the body is always code 99991400. */
  status?: 429 | 400 | 200;
  resetSeconds?: number;
}

export interface LarkSimulator {
  url: string;
  close(): Promise<void>;
  /** Ground truth: every event the API holds, ordered by event_time. */
  readonly events: readonly LarkAuditInfo[];
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
  /**
   * Fault knobs. Each applies to the next `count` audit_infos requests, starting after `afterRequests` more
   * of them have been answered normally (0 = the very next one).
   */
  faults: {
    /** Throttled answers: code 99991400 with `x-ogw-ratelimit-reset`. */
    throttleNext(count?: number, fault?: LarkThrottleFault, afterRequests?: number): void;
    /** HTTP `status` (default 500) with code 1050002. */
    serverErrorNext(count?: number, status?: number, afterRequests?: number): void;
    /** HTTP 200 with a body that is not JSON. */
    garbageNext(count?: number, afterRequests?: number): void;
    /** Any Lark error answer, e.g. `{status: 400, code: 99991672, msg: 'Access denied...'}` for a missing scope. */
    errorNext(count: number, error: { status: number; code: number; msg: string }, afterRequests?: number): void;
    /** The next `count` token requests answer HTTP 200 with a body that is not JSON. */
    tokenGarbageNext(count?: number): void;
    /** Revokes every issued token after `requests` more successful audit_infos answers (0 = now). */
    expireTokensAfter(requests?: number): void;
  };
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

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Binary search: the first index whose event_time >= seconds. */
function lowerBound(events: readonly LarkAuditInfo[], seconds: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.event_time < seconds) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function startLarkSimulator(options: LarkSimulatorOptions): Promise<LarkSimulator> {
  const clock = options.clock ?? Date.now;
  const ttl = options.tokenTtlSeconds ?? 7200;
  const limit = options.rateLimitPerMinute ?? 100;
  const order = options.order ?? 'desc';
  let events: LarkAuditInfo[] = [...(options.events ?? [])];
  if (options.generate) {
    const to = options.generate.to ?? new Date(clock());
    const from = options.generate.from ?? new Date(to.getTime() - DAY_SECONDS * 1000);
    events.push(
      ...generateAuditInfos({ count: options.generate.count, fromSeconds: Math.floor(from.getTime() / 1000), toSeconds: Math.floor(to.getTime() / 1000), seed: options.seed ?? 1 }),
    );
  }
  let sorted = false;
  const ensureSorted = () => {
    if (!sorted) {
      events.sort((a, b) => a.event_time - b.event_time || (a.unique_id < b.unique_id ? -1 : a.unique_id > b.unique_id ? 1 : 0));
      sorted = true;
    }
  };
  const requests: LarkRequestLogEntry[] = [];
  const tokens = new Map<string, IssuedToken>();
  let tokensIssued = 0;
  const recentRequests: number[] = [];
  // Scheduled faults, by the audit_infos request number they hit.
  type Fault = { kind: 'throttle'; throttle: LarkThrottleFault } | { kind: 'server'; status: number } | { kind: 'garbage' } | { kind: 'error'; status: number; code: number; msg: string };
  let tokenGarbage = 0;
  const scheduled: { at: number; fault: Fault }[] = [];
  let auditCount = 0;
  const schedule = (count: number, afterRequests: number, fault: Fault) => {
    const first = auditCount + afterRequests + 1;
    for (let i = 0; i < count; i++) scheduled.push({ at: first + i, fault });
  };
  const takeFault = (): Fault | undefined => {
    const index = scheduled.findIndex((f) => f.at <= auditCount);
    return index < 0 ? undefined : scheduled.splice(index, 1)[0]!.fault;
  };
  let expireAfter: number | undefined;

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
    if (tokenGarbage > 0) {
      tokenGarbage--;
      return new HttpAnswer(200, '<html><body>502 Bad Gateway</body></html>');
    }
    let body: { app_id?: unknown; app_secret?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
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

  function throttle(fault: LarkThrottleFault, resetSeconds: number): HttpAnswer {
    return lark(fault.status ?? 429, 99991400, 'request trigger frequency limit', {
      'x-ogw-ratelimit-limit': String(limit || 100),
      'x-ogw-ratelimit-reset': String(fault.resetSeconds ?? resetSeconds),
    });
  }

  function rateLimited(): HttpAnswer | undefined {
    if (limit <= 0) return undefined;
    const now = clock();
    while (recentRequests.length && recentRequests[0]! <= now - 60_000) recentRequests.shift();
    if (recentRequests.length >= limit) return throttle({}, Math.max(1, Math.ceil((recentRequests[0]! + 60_000 - now) / 1000)));
    recentRequests.push(now);
    return undefined;
  }

  /** One page of events[lo, hi) in `order`, without copying the whole range (100k-event benchmarks). */
  function page(lo: number, hi: number, eventName: string, offset: number, pageSize: number): { items: LarkAuditInfo[]; total: number } {
    if (eventName) {
      const matching = events.slice(lo, hi).filter((e) => e.event_name === eventName);
      if (order === 'desc') matching.reverse();
      return { items: matching.slice(offset, offset + pageSize), total: matching.length };
    }
    const total = hi - lo;
    if (order === 'asc') return { items: events.slice(lo + offset, Math.min(hi, lo + offset + pageSize)), total };
    return { items: events.slice(Math.max(lo, hi - offset - pageSize), Math.max(lo, hi - offset)).reverse(), total };
  }

  function intParam(url: URL, name: string): number | undefined | null {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === '') return undefined;
    return /^-?\d+$/.test(raw) ? Number(raw) : null;
  }

  function handleAudit(req: IncomingMessage, url: URL, entry: LarkRequestLogEntry): HttpAnswer {
    if (req.method !== 'GET') return lark(405, 404, 'method not allowed');
    auditCount++;
    const fault = takeFault();
    if (fault?.kind === 'throttle') return throttle(fault.throttle, 1);
    const limited = rateLimited();
    if (limited) return limited;
    const denied = checkToken(req);
    if (denied) return denied;
    if (fault?.kind === 'server') return lark(fault.status, 1050002, 'DB error');
    if (fault?.kind === 'garbage') return new HttpAnswer(200, '<html><body>502 Bad Gateway</body></html>');
    if (fault?.kind === 'error') return lark(fault.status, fault.code, fault.msg);
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
    ensureSorted();
    const { items, total } = page(lowerBound(events, oldest), lowerBound(events, latest + 1), eventName, offset, pageSize);
    const hasMore = offset + pageSize < total;
    const data: Record<string, unknown> = { has_more: hasMore, items };
    if (hasMore) data['page_token'] = Buffer.from(JSON.stringify({ q: query, i: offset + pageSize } satisfies PageCursor)).toString('base64url');
    entry.items = items.length;
    if (expireAfter !== undefined && --expireAfter <= 0) {
      expireAfter = undefined;
      for (const token of tokens.values()) token.revoked = true;
    }
    return new HttpAnswer(200, { code: 0, msg: 'success', data });
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
    const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    entry.code = typeof answer.body === 'object' && answer.body !== null ? (answer.body as { code?: number }).code : undefined;
    res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/html' : 'application/json; charset=utf-8', ...answer.headers });
    res.end(body);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    get events() {
      ensureSorted();
      return events;
    },
    requests,
    auditRequests: () => requests.filter((r) => r.path === AUDIT_PATH),
    get tokensIssued() {
      return tokensIssued;
    },
    get issuedTokens() {
      return [...tokens.keys()];
    },
    addEvents(...added) {
      events = events.concat(added);
      sorted = false;
    },
    eventsBetween(oldestSeconds, latestSeconds) {
      ensureSorted();
      return events.slice(lowerBound(events, oldestSeconds), lowerBound(events, latestSeconds + 1));
    },
    faults: {
      throttleNext(count = 1, fault = {}, afterRequests = 0) {
        schedule(count, afterRequests, { kind: 'throttle', throttle: fault });
      },
      serverErrorNext(count = 1, status = 500, afterRequests = 0) {
        schedule(count, afterRequests, { kind: 'server', status });
      },
      garbageNext(count = 1, afterRequests = 0) {
        schedule(count, afterRequests, { kind: 'garbage' });
      },
      errorNext(count, error, afterRequests = 0) {
        schedule(count, afterRequests, { kind: 'error', ...error });
      },
      tokenGarbageNext(count = 1) {
        tokenGarbage += count;
      },
      expireTokensAfter(requestCount = 0) {
        if (requestCount <= 0) for (const token of tokens.values()) token.revoked = true;
        else expireAfter = requestCount;
      },
    },
  };
}

