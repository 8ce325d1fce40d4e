import { Agent, ProxyAgent, request as undiciRequest, type Dispatcher } from 'undici';
import { redact } from '../secrets/redactor.js';
import { proxyAuthorization, proxyFor } from './proxy.js';
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
 * `keepAliveTimeoutThreshold`: undici subtracts it from the server's `Keep-Alive: timeout=N` hint and, with
 * its default of 2 s, closes the connection after every request to a server that says `timeout=1` or 2: a new
 * connection (and TLS handshake) per page. A connection idle for less than half a second is still open.
 */
const POOL = { keepAliveTimeout: 30_000, keepAliveTimeoutThreshold: 500, connections: 16 } as const;
const sharedAgent = new Agent(POOL);
/** One tunnelling pool per proxy (by URL with credentials), shared like the direct one. */
const proxyDispatchers = new Map<string, Dispatcher>();

function dispatcherFor(target: URL, settings: ProxySettings | undefined): Dispatcher {
  const proxy = proxyFor(target, settings);
  if (!proxy) return sharedAgent;
  let dispatcher = proxyDispatchers.get(proxy.href);
  if (!dispatcher) {
    // CONNECT tunnels for http:// targets too (undici's default), so a proxy sees every request the same
    // way. Credentials go in Proxy-Authorization, built by us (undici only does it for user *and* password).
    const bare = new URL(proxy.href);
    bare.username = '';
    bare.password = '';
    const token = proxyAuthorization(proxy);
    dispatcher = new ProxyAgent({ ...POOL, uri: bare.href, ...(token ? { token } : {}) });
    proxyDispatchers.set(proxy.href, dispatcher);
  }
  return dispatcher;
}

/**
 * The HTTP client every vendor uses: undici with timeouts, retries with jittered exponential back-off on
 * network errors and 5xx, 429 honoured (vendor hint, Retry-After, or back-off), rate limits from
 * `requests_limits`, HTTPS enforced, and every message redacted.
 */
class UndiciHttpClient implements HttpClientContract {
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
    const headers: Record<string, string> = {
      'user-agent': this.options.userAgent ?? 'devo-collector',
      ...(typeof req.headers === 'function' ? req.headers(url) : req.headers),
    };
    let body = req.body;
    if (req.form) {
      body = new URLSearchParams(req.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
    const timeout = req.timeoutMs ?? this.options.timeoutMs ?? 60_000;
    const started = performance.now();
    const maxBytes = this.options.maxResponseBytes ?? 256 * 1024 * 1024;
    try {
      const res = await undiciRequest(url, {
        method: req.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body,
        dispatcher: dispatcherFor(url, this.options.proxy),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        maxRedirections: 0,
        signal: this.options.signal,
      } as Parameters<typeof undiciRequest>[1]);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          res.body.destroy();
          throw new HttpError('too-large', `Response from ${url.host} exceeds ${maxBytes} bytes`, res.statusCode);
        }
        chunks.push(chunk as Buffer);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const flat: Record<string, string> = {};
      for (const [key, value] of Object.entries(res.headers)) if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value;
      this.options.observer?.onResponse?.(res.statusCode, performance.now() - started, req.pool ?? 'default');
      return {
        status: res.statusCode,
        headers: flat,
        text,
        url: url.toString(),
        json<T>(): T {
          try {
            return JSON.parse(text) as T;
          } catch {
            throw new HttpError('body', `Invalid JSON from ${url.host}${url.pathname} (HTTP ${res.statusCode}): ${JSON.stringify(text.slice(0, 200))}`, res.statusCode);
          }
        },
      };
    } catch (error) {
      if (error instanceof HttpError) throw error;
      const e = error as Error & { code?: string };
      if (this.options.signal?.aborted) throw new HttpError('aborted', 'The collector is stopping');
      // undici: "Proxy response (407) !== 200 when HTTP Tunneling". Wrong proxy credentials do not heal by retrying.
      const proxyStatus = /Proxy response \((\d{3})\)/.exec(e.message ?? '')?.[1];
      if (proxyStatus === '407' || proxyStatus === '401') {
        throw new HttpError('proxy', `${req.method ?? 'GET'} ${url.origin}${url.pathname} failed: the proxy refused the credentials (HTTP ${proxyStatus} to CONNECT); check the user and password in HTTPS_PROXY/HTTP_PROXY or globals.proxy`, Number(proxyStatus));
      }
      const kind: HttpErrorKind = /timeout/i.test(e.code ?? e.name ?? '') ? 'timeout' : 'network';
      throw new HttpError(kind, `${req.method ?? 'GET'} ${url.origin}${url.pathname} failed: ${e.code ?? e.name}: ${e.message}`);
    }
  }
}

/** What a service gets as `ctx.http` (the contract's view, `http-types.ts`). */
export type HttpClient = HttpClientContract;
/** Built by the runtime for each input; hosts and tests build their own with `new HttpClient(options)`. */
export const HttpClient: new (options?: HttpClientOptions) => HttpClient = UndiciHttpClient;
