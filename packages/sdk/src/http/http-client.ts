import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { redact } from '../secrets/redactor.js';
import { sleep } from '../runtime/abortable-sleep.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Logger } from '../telemetry/logger.js';

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string | URL;
  /** Appended with URLSearchParams. Services that sign the exact query build `url` themselves instead. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Static headers, or a function called for every attempt (signatures that include the date). */
  headers?: Record<string, string> | ((url: URL) => Record<string, string>);
  body?: string;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  timeoutMs?: number;
  /** Which request pool's budget this request spends (default pool when omitted). */
  pool?: string;
  /** How often to retry network errors, 5xx and 429 before giving the response back. Default 5. */
  retries?: number;
  /** A vendor's own throttling hint in ms (e.g. Lark's x-ogw-ratelimit-reset), checked before Retry-After. */
  retryAfterMs?: (response: HttpResponse) => number | undefined;
  /** Whether a response means "throttled" (default: status 429). */
  isThrottled?: (response: HttpResponse) => boolean;
  /** Don't spend budget or wait on rate limits (token endpoints). */
  unlimited?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  url: string;
  /** Parses the body as JSON; throws HttpError('body') with a redacted excerpt when it is not. */
  json<T = unknown>(): T;
}

export type HttpErrorKind = 'network' | 'timeout' | 'insecure' | 'body' | 'too-large' | 'aborted';

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
 * Node's own HTTP client (llhttp is built into Node): undici, the npm package this replaced, cost every
 * collector ~20 MiB of resident memory and ~140 ms of CPU at start for the same requests
 * (docs/benchmarks.md). Connections are kept alive up to 16 per origin while pages follow each other; an
 * idle one is closed after 4 s, before the usual 5 s keep-alive of servers (Node's own default among them),
 * so a request never goes out on a connection the server is closing at that moment.
 */
const agentOptions = { keepAlive: true, maxSockets: 16, timeout: 4_000, scheduling: 'lifo' as const };
const httpAgent = new HttpAgent(agentOptions);
const httpsAgent = new HttpsAgent(agentOptions);

/** An exchange that stayed silent longer than its timeout; its `code` says "timeout" to `send`. */
class RequestTimeout extends Error {
  readonly code = 'RequestTimeout';
}

/**
 * Sends a request; resolves with the response head. `timeoutMs` is the idle time allowed on the socket:
 * waiting for the head and between two chunks of the body (undici's headersTimeout and bodyTimeout). A
 * timeout during the body makes the body stream fail; `timedOut()` then tells it from a reset.
 */
function exchange(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, signal: AbortSignal | undefined) {
  let timeout: RequestTimeout | undefined;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    const https = url.protocol === 'https:';
    const request = (https ? httpsRequest : httpRequest)(url, { method, headers, agent: https ? httpsAgent : httpAgent, signal }, resolve);
    request.setTimeout(timeoutMs, () => request.destroy((timeout = new RequestTimeout(`no data for ${timeoutMs} ms`))));
    request.on('error', reject);
    request.end(body);
  });
  return { response, timedOut: () => timeout };
}

/**
 * The HTTP client every vendor uses: undici with timeouts, retries with jittered exponential back-off on
 * network errors and 5xx, 429 honoured (vendor hint, Retry-After, or back-off), rate limits from
 * `requests_limits`, HTTPS enforced, and every message redacted.
 */
export class HttpClient {
  constructor(private readonly options: HttpClientOptions = {}) {}

  get signal(): AbortSignal | undefined {
    return this.options.signal;
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
    const base = this.options.backoffBaseMs ?? 1000;
    const cap = this.options.maxBackoffMs ?? 60_000;
    const exp = Math.min(cap, base * 2 ** attempt);
    return exp / 2 + Math.random() * (exp / 2);
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
        if (lastError.kind === 'insecure' || lastError.kind === 'too-large' || lastError.kind === 'aborted' || attempt >= retries) throw lastError;
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
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const sent = exchange(url, req.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, timeout, this.options.signal);
    try {
      const res = await sent.response;
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          res.destroy();
          throw new HttpError('too-large', `Response from ${url.host} exceeds ${maxBytes} bytes`, status);
        }
        chunks.push(chunk as Buffer);
      }
      // A page is decoded once; its chunks are garbage as soon as this returns.
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      const flat: Record<string, string> = {};
      for (const [key, value] of Object.entries(res.headers)) if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value;
      this.options.observer?.onResponse?.(status, performance.now() - started, req.pool ?? 'default');
      return {
        status,
        headers: flat,
        text,
        url: url.toString(),
        json<T>(): T {
          try {
            return JSON.parse(text) as T;
          } catch {
            throw new HttpError('body', `Invalid JSON from ${url.host}${url.pathname} (HTTP ${status}): ${JSON.stringify(text.slice(0, 200))}`, status);
          }
        },
      };
    } catch (error) {
      if (error instanceof HttpError) throw error;
      const e = (sent.timedOut() ?? error) as Error & { code?: string };
      if (this.options.signal?.aborted) throw new HttpError('aborted', 'The collector is stopping');
      const kind: HttpErrorKind = /timeout/i.test(e.code ?? e.name ?? '') ? 'timeout' : 'network';
      throw new HttpError(kind, `${req.method ?? 'GET'} ${url.origin}${url.pathname} failed: ${e.code ?? e.name}: ${e.message}`);
    }
  }
}
