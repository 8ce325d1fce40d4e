import { redact } from '../secrets/redactor.js';
import { hangUp, IDLE_MS, KEEP_ALIVE_MARGIN_MS, originPool, type Connection, type ConnectionUser } from './connection-pool.js';
import { ResponseBody } from './response-body.js';
import { ResponseParser } from './response-parser.js';
import type { HttpClient as HttpClientContract, HttpRequest, HttpResponse, ProxySettings } from './http-types.js';
import { sleep } from '../runtime/abortable-sleep.js';

export type { HttpRequest, HttpResponse } from './http-types.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Logger } from '../telemetry/logger.js';
import { backoffDelay } from '../runtime/backoff.js';

/** `proxy`: the outbound proxy refused our credentials (HTTP 401/407 to CONNECT); not retried. */
export type HttpErrorKind = 'network' | 'timeout' | 'insecure' | 'body' | 'too-large' | 'aborted' | 'proxy';

/** A request that never produced a usable response. Vendor code maps it to its own error IDs. */
export class HttpError extends Error {
  constructor(
    readonly kind: HttpErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(redact(message));
    this.name = 'HttpError';
  }
}

/** Counters the telemetry layer subscribes to. */
export interface HttpObserver {
  onResponse?(status: number, durationMs: number, pool: string): void;
  onRetry?(reason: string, pool: string): void;
  onThrottled?(pool: string): void;
}

export interface HttpClientOptions {
  /** Plain http:// is refused unless the host is loopback or this is true (`allow_insecure_http`). */
  allowInsecureHttp?: boolean;
  limiters?: Record<string, RateLimiter>;
  log?: Logger;
  observer?: HttpObserver;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Upper bound of a response body; a bigger one is an error, not an out-of-memory crash. Default 256 MiB. */
  maxResponseBytes?: number;
  /** Base of the exponential back-off. Default 1 s (tests use less). */
  backoffBaseMs?: number;
  maxBackoffMs?: number;
  signal?: AbortSignal;
  userAgent?: string;
  /** The outbound proxy (`resolveProxy`: HTTPS_PROXY, HTTP_PROXY, NO_PROXY or `globals.proxy`); none when undefined. */
  proxy?: ProxySettings;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/** Parses Retry-After (seconds or an HTTP date) into ms. */
export function retryAfterHeaderMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * What one exchange produced: the status, the headers (repeated ones joined with ", ") and the body as text.
 * Made when the answer is complete, and its text taken out by its one reader (`answered`): the exchange's
 * promise, made when the request was sent, resolves with this object (see `Answer` for why that matters).
 */
interface Exchange {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * The response a caller gets. Made after the answer arrived, and the only holder of the body's text that the
 * client leaves behind: the promises and async frames of a request (the exchange's, `send`'s, `request`'s, the
 * rate limiter's, the caller's) are made before it is answered, so V8 may have promoted them to the old
 * generation while it waited; an old object that holds a page text keeps it alive through every scavenge until a
 * full collection (V8 treats old objects as alive then), so a 3 MB page text would be promoted once it is garbage
 * (docs/benchmarks.md, wave 12 and 13). They hold this object instead, whose text its reader can let go
 * (`releaseText`) once its records are made.
 */
class Answer implements HttpResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    public text: string,
    readonly url: string,
    private readonly where: string,
  ) {}

  json<T>(): T {
    try {
      return JSON.parse(this.text) as T;
    } catch {
      throw new HttpError('body', `Invalid JSON from ${this.where} (HTTP ${this.status}): ${JSON.stringify(this.text.slice(0, 200))}`, this.status);
    }
  }
}

/** The response of an exchange, its text taken out of the exchange (whose promise may be old). */
function answered(url: URL, exchange: Exchange): Answer {
  const text = exchange.text;
  exchange.text = '';
  return new Answer(exchange.status, exchange.headers, text, url.toString(), `${url.host}${url.pathname}`);
}

/**
 * Lets go of a response's text once its reader is done with it (its records made): `text` becomes '' (and
 * `json()` fails). The request's promises and async frames that V8 may have promoted while the request waited
 * still hold the response object; without its text they no longer keep a page alive (see `Answer`). For a
 * vendor's client that reads pages of megabytes; harmless for a response of any other client.
 */
export function releaseText(response: HttpResponse): void {
  response.text = '';
}

/**
 * A pooled connection the server closed while it idled answers the request at once with a reset. One that
 * fails later was read by a server that then hung and dropped it: a failure to report and back off from,
 * not to send again silently.
 */
const STALE_WITHIN_MS = 1_000;

/** A pooled connection the server closed while it idled: the request never reached it, so it is sent again at once. */
function isStaleConnection(connection: Connection, error: NodeJS.ErrnoException, elapsedMs: number): boolean {
  return connection.served > 0 && elapsedMs < STALE_WITHIN_MS && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
}

/** How long a connection may idle after a response with this `Keep-Alive` header (0: close it now). */
function idleMsAfter(keepAlive: string | undefined): number {
  const seconds = keepAlive === undefined ? undefined : /(?:^|,)\s*timeout=(\d+)/i.exec(keepAlive)?.[1];
  return seconds === undefined ? IDLE_MS : Math.min(IDLE_MS, Number(seconds) * 1000 - KEEP_ALIVE_MARGIN_MS);
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What node:http refuses in a header value too: control characters (CR and LF would split the head). */
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** The request line and header fields, validated as node:http does (a value cannot smuggle a header). */
function requestHead(method: string, url: URL, headers: Record<string, string>, body: string | undefined): string {
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\n`;
  if (!('host' in headers)) head += `host: ${url.host}\r\n`;
  // Credentials in the URL become Basic authorization, as node:http made them.
  if ((url.username || url.password) && !('authorization' in headers)) {
    head += `authorization: Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}\r\n`;
  }
  for (const name in headers) {
    // Framing is ours: the body's length and the connection's reuse are what this exchange does.
    if (name === 'content-length' || name === 'connection' || name === 'transfer-encoding') continue;
    const value = headers[name];
    if (!HEADER_NAME.test(name)) throw new TypeError(`Invalid HTTP header name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || BAD_HEADER_VALUE.test(value)) throw new TypeError(`Invalid value of the HTTP header "${name}"`);
    head += `${name}: ${value}\r\n`;
  }
  if (body !== undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  return `${head}connection: keep-alive\r\n\r\n`;
}

/**
 * What to fail when a collector stops, per stop signal: one listener per signal, not one per request (every
 * service's client shares the runtime's signal).
 */
const inFlight = new WeakMap<AbortSignal, Set<(error: Error) => void>>();

function inFlightOf(signal: AbortSignal): Set<(error: Error) => void> {
  let requests = inFlight.get(signal);
  if (!requests) {
    const set = new Set<(error: Error) => void>();
    signal.addEventListener('abort', () => {
      for (const fail of set) fail(Object.assign(new Error('The request was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
    }, { once: true });
    inFlight.set(signal, set);
    requests = set;
  }
  return requests;
}

/**
 * The HTTP client every vendor uses: node:http/node:https with keep-alive pools, timeouts, retries with jittered
 * exponential back-off on network errors and 5xx, 429 honoured (vendor hint, Retry-After, or back-off), rate
 * limits from `requests_limits`, HTTPS enforced, and every message redacted.
 */
class NodeHttpClient implements HttpClientContract {
  constructor(private readonly options: HttpClientOptions = {}) {}

  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  /** The outbound proxy settings, for clients of other libraries (`proxyAgents(ctx.http.proxy)` for the AWS SDK). */
  get proxy(): ProxySettings | undefined {
    return this.options.proxy;
  }

  limiter(pool = 'default'): RateLimiter | undefined {
    return this.options.limiters?.[pool];
  }

  buildUrl(url: string | URL, query?: HttpRequest['query']): URL {
    const target = new URL(String(url));
    if (query) {
      for (const [key, value] of Object.entries(query)) if (value !== undefined) target.searchParams.append(key, String(value));
    }
    return target;
  }

  private checkScheme(url: URL): void {
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && (isLoopbackHost(url.hostname) || this.options.allowInsecureHttp)) return;
    throw new HttpError(
      'insecure',
      `Refusing plain ${url.protocol}//${url.host}: use HTTPS, or set allow_insecure_http: true on the input`,
    );
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, { initialMs: this.options.backoffBaseMs ?? 1000, maxMs: this.options.maxBackoffMs ?? 60_000 });
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = this.buildUrl(req.url, req.query);
    this.checkScheme(url);
    const pool = req.pool ?? 'default';
    const limiter = req.unlimited ? undefined : this.options.limiters?.[pool];
    const retries = req.retries ?? 5;
    const signal = this.options.signal;
    let lastError: HttpError | undefined;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new HttpError('aborted', 'The collector is stopping');
      let response: HttpResponse | undefined;
      try {
        const send = () => this.send(url, req);
        response = limiter ? await limiter.schedule(send, signal) : await send();
      } catch (error) {
        lastError = error instanceof HttpError ? error : new HttpError('network', String(error));
        if (lastError.kind === 'insecure' || lastError.kind === 'too-large' || lastError.kind === 'aborted' || lastError.kind === 'proxy' || attempt >= retries) throw lastError;
        this.options.observer?.onRetry?.(lastError.kind, pool);
        const wait = this.backoff(attempt);
        this.options.log?.warning(`Request to ${url.origin}${url.pathname} failed (${lastError.message}); retry ${attempt + 1}/${retries} in ${Math.round(wait)} ms`);
        await sleep(wait, signal);
        continue;
      }
      const throttled = req.isThrottled ? req.isThrottled(response) : response.status === 429;
      if (throttled) {
        this.options.observer?.onThrottled?.(pool);
        if (attempt >= retries) return response;
        const hinted = req.retryAfterMs?.(response) ?? retryAfterHeaderMs(response.headers['retry-after']);
        const wait = hinted ?? (limiter ? limiter.blockAfterThrottle(this.backoff(attempt)) : this.backoff(attempt));
        if (hinted !== undefined) limiter?.blockFor(hinted);
        this.options.log?.warning(`Throttled by ${url.host} (HTTP ${response.status}); waiting ${Math.round(wait / 1000)} s before retry ${attempt + 1}/${retries}`);
        await sleep(wait, signal);
        continue;
      }
      if (response.status >= 500 && attempt < retries) {
        this.options.observer?.onRetry?.(`http ${response.status}`, pool);
        const wait = this.backoff(attempt);
        this.options.log?.warning(`HTTP ${response.status} from ${url.origin}${url.pathname}; retry ${attempt + 1}/${retries} in ${Math.round(wait)} ms`);
        await sleep(wait, signal);
        continue;
      }
      return response;
    }
  }

  private async send(url: URL, req: HttpRequest): Promise<HttpResponse> {
    // Field names are case-insensitive: lower-cased once, so a caller's `User-Agent` or `Host` replaces ours
    // instead of going out twice (node:http compared them the same way).
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent ?? 'devo-collector' };
    const given = typeof req.headers === 'function' ? req.headers(url) : req.headers;
    for (const name in given) headers[name.toLowerCase()] = given[name]!;
    let body = req.body;
    if (req.form) {
      body = new URLSearchParams(req.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
    const method = req.method ?? (body === undefined ? 'GET' : 'POST');
    const timeoutMs = req.timeoutMs ?? this.options.timeoutMs ?? 60_000;
    const started = performance.now();
    try {
      const attempt = () => this.exchange(url, method, headers, body, timeoutMs);
      const exchange = await attempt().catch((error: unknown) => {
        if ((error as { stale?: boolean }).stale) return attempt();
        throw error;
      });
      // (No closure here holds the text: a block's closure context is made when the block starts, before the
      // await, and may be old by the time the answer arrives.)
      const response = answered(url, exchange);
      this.options.observer?.onResponse?.(response.status, performance.now() - started, req.pool ?? 'default');
      return response;
    } catch (error) {
      if (error instanceof HttpError) throw error;
      const e = error as Error & { code?: string; proxyStatus?: number };
      if (this.options.signal?.aborted) throw new HttpError('aborted', 'The collector is stopping');
      // The tunnel's CONNECT was refused (proxy-agents.ts). Wrong proxy credentials do not heal by retrying.
      if (e.proxyStatus === 407 || e.proxyStatus === 401) {
        throw new HttpError('proxy', `${method} ${url.origin}${url.pathname} failed: the proxy refused the credentials (HTTP ${e.proxyStatus} to CONNECT); check the user and password in HTTPS_PROXY/HTTP_PROXY or globals.proxy`, e.proxyStatus);
      }
      throw new HttpError('network', `${method} ${url.origin}${url.pathname} failed: ${e.code ?? e.name}: ${e.message}`);
    }
  }

  /**
   * One request on a pooled connection (connection-pool.ts), its response read by `ResponseParser`.
   * `timeoutMs` bounds the wait for a connection and the response's head, then each silence between body
   * chunks; a body over `maxResponseBytes` is cut off. Rejects with `stale` set when a reused connection was
   * found closed.
   */
  private exchange(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<Exchange> {
    const maxBytes = this.options.maxResponseBytes ?? 256 * 1024 * 1024;
    const pool = originPool(url, this.options.proxy);
    const head = requestHead(method, url, headers, body);
    const stopping = this.options.signal ? inFlightOf(this.options.signal) : undefined;
    return new Promise<Exchange>((resolve, reject) => {
      const sentAt = performance.now();
      let connection: Connection | undefined;
      let settled = false;
      let received = false;
      // Each chunk is decoded as it arrives and let go (response-body.ts): a page never exists as one Buffer.
      const answer = new ResponseBody(maxBytes, () => new HttpError('too-large', `Response from ${url.host} exceeds ${maxBytes} bytes`, parser.status));
      const parser = new ResponseParser((bytes) => answer.add(bytes, parser.bodyLength), method === 'HEAD');
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        stopping?.delete(fail);
      };
      const fail = (error: Error) => {
        if (settled) return;
        settle();
        if (connection) {
          connection.user = undefined;
          connection.socket.destroy();
          if (!received && isStaleConnection(connection, error, performance.now() - sentAt)) Object.assign(error, { stale: true });
        }
        reject(error);
      };
      const finish = () => {
        settle();
        pool.release(connection!, parser.keepAlive ? idleMsAfter(parser.headers['keep-alive']) : undefined);
        // A new object, its text taken by `send` (this promise was made with the request: it may be old).
        resolve({ status: parser.status, headers: parser.headers, text: answer.text() });
      };
      const user: ConnectionUser = {
        data(chunk) {
          received = true;
          timer.refresh();
          try {
            if (parser.push(chunk)) finish();
          } catch (error) {
            fail(error as Error);
          }
        },
        end() {
          if (!parser.end()) return fail(hangUp());
          parser.keepAlive = false;
          finish();
        },
        error: fail,
      };
      const timer = setTimeout(() => {
        const waiting = parser.status ? 'data from the body' : 'a response';
        fail(new HttpError('timeout', `${method} ${url.origin}${url.pathname} failed: no ${waiting} within ${timeoutMs} ms`, parser.status || undefined));
      }, timeoutMs);
      // A stop that came before this exchange (between a stale connection and its resend) fails it at once.
      if (this.options.signal?.aborted) return fail(new Error('The request was aborted'));
      stopping?.add(fail);
      const start = (acquired: Connection) => {
        // Gave up while the connection was being opened: it serves the next request.
        if (settled) return pool.release(acquired, IDLE_MS);
        connection = acquired;
        acquired.user = user;
        const socket = acquired.socket;
        if (body === undefined) socket.write(head, 'latin1');
        else {
          socket.cork();
          socket.write(head, 'latin1');
          socket.write(body, 'utf8');
          socket.uncork();
        }
      };
      try {
        const acquired = pool.acquire(timeoutMs);
        if (acquired instanceof Promise) acquired.then(start, fail);
        else start(acquired);
      } catch (error) {
        fail(error as Error);
      }
    });
  }
}

/** What a service gets as `ctx.http` (the contract's view, `http-types.ts`). */
export type HttpClient = HttpClientContract;
/** Built by the runtime for each input; hosts and tests build their own with `new HttpClient(options)`. */
export const HttpClient: new (options?: HttpClientOptions) => HttpClient = NodeHttpClient;
