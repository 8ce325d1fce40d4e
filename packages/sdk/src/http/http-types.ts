// What the vendor contract (runtime/definitions.ts) sees of HTTP: types only, so the contract depends on no
// implementation. The node:http client (http-client.ts) and the rate limiter (rate-limiter.ts) implement them.

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

/** The resolved outbound proxy (`resolveProxy` in proxy.ts). */
export interface ProxySettings {
  /** For https:// targets (falls back to the http proxy, as undici and the AWS CLI do). */
  https?: URL;
  /** For http:// targets. */
  http?: URL;
  /** The NO_PROXY entries as written (for the log line). */
  noProxy: string[];
  /** Whether a host is reached directly. */
  bypass(hostname: string, port: number): boolean;
}

/** A request pool's budget as a service may read it to plan its requests (`ctx.http.limiter(pool)`). */
export interface RequestBudget {
  /** The configured windows, shortest first. */
  readonly limits: readonly { periodMs: number; limit: number }[];
  /** When the requests still inside the longest window were made (epoch ms). */
  readonly recorded: readonly number[];
  /** Milliseconds until `count` more requests fit in every window (0 when they fit now). */
  waitFor(count?: number, now?: number): number;
  /** Requests left in the tightest window right now. */
  remaining(now?: number): number;
}

/** The HTTP client of a service (`ctx.http`): retries, rate limits, HTTPS enforced, every message redacted. */
export interface HttpClient {
  readonly signal: AbortSignal | undefined;
  /** The outbound proxy settings, for clients of other libraries (`proxyAgents(ctx.http.proxy)` for the AWS SDK). */
  readonly proxy: ProxySettings | undefined;
  /** The budget of a request pool (`requests_limits`), when it has one. */
  limiter(pool?: string): RequestBudget | undefined;
  buildUrl(url: string | URL, query?: HttpRequest['query']): URL;
  request(req: HttpRequest): Promise<HttpResponse>;
}
