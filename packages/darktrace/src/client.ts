import { createHmac } from 'node:crypto';
import { collectYoungGeneration, CollectorError, LARGE_PAGE_CHARS, HttpError, jsonRecords, parseBaseUrl, releaseText, requestOrFail, type HttpClient, type HttpResponse, type Logger } from '@collector/sdk';
import { darktraceErrors as E, TransientStatus } from './errors.js';

/**
 * The Darktrace request signature: hex HMAC-SHA1 keyed with the private token over
 * `path?query + "\n" + public token + "\n" + DTAPI-Date`. `pathAndQuery` must be byte for byte what goes
 * on the wire (no host; no `?` when there is no query).
 */
export function signDarktraceRequest(privateToken: string, publicToken: string, pathAndQuery: string, date: string): string {
  return createHmac('sha1', privateToken).update(`${pathAndQuery}\n${publicToken}\n${date}`).digest('hex');
}

/** `YYYYMMDDTHHMMSS` in UTC, the DTAPI-Date form of the API guide and Elastic's integration. */
export function formatDtapiDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').slice(0, 15);
}

export type QueryValue = string | number | boolean;

/**
 * The query string in the given order. Values are percent-encoded so that URL parsing leaves them
 * untouched and the signed text is exactly the sent text.
 */
export function buildQuery(params: readonly (readonly [string, QueryValue])[]): string {
  return params.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`).join('&');
}

/**
 * The base URL of `credentials.instance`: a host with an optional port (HTTPS), or an explicit
 * `https://host[:port]` / `http://host[:port]` URL (plain HTTP only to loopback or with
 * `allow_insecure_http`, enforced by the SDK's HTTP client). Undefined when malformed.
 */
export function instanceBaseUrl(instance: string): string | undefined {
  const parsed = parseBaseUrl(instance, { originOnly: true, bareHost: true });
  return parsed.ok ? parsed.url : undefined;
}

/** Where a failure happens decides its error family: SetupError 100/103 in setup, PullError 300/301 in a pull. */
export type Phase = 'setup' | 'pull';

export interface DarktraceGetOptions {
  phase: Phase;
  /** A 404 with a JSON `{"error": ...}` body means "no data" on list endpoints. */
  emptyOn404?: unknown;
  timeoutMs?: number;
  /** A service's `override_base_url` instead of the instance. */
  baseUrl?: string;
  /** Attempts after the first on network errors, timeouts and 5xx (the SDK's default when omitted). */
  retries?: number;
}

/** Whether a pull failed because the instance did not answer in time (the slot may be split and retried). */
export function isTimeout(error: unknown): boolean {
  return error instanceof CollectorError && error.cause instanceof HttpError && error.cause.kind === 'timeout';
}

/** Whether the transport would have retried the failure (network error, 5xx, 429). */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof CollectorError)) return false;
  return (error.cause instanceof HttpError && (error.cause.kind === 'network' || error.cause.kind === 'timeout')) || error.cause instanceof TransientStatus;
}

/** /modelbreaches is not paged, so a busy appliance may take a while to answer a wide window. */
export const DEFAULT_TIMEOUT_MS = 120_000;

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

/**
 * Whether the body's first non-blank character opens a JSON array or object. The login page is HTML: a body
 * that starts as JSON is not searched for its title. That search read every byte of every page (a page of
 * /modelbreaches is ~1 MB: ~7 % of the collector's CPU), and a record holding the title's text made the
 * whole page an error.
 */
function startsAsJsonContainer(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) continue;
    return code === 0x5b || code === 0x7b; // [ {
  }
  return false;
}

/** The Darktrace Threat Visualizer API: HMAC-signed GETs and the API's error signals mapped to the manual's IDs. */
export class DarktraceClient {
  constructor(
    readonly baseUrl: string,
    private readonly publicToken: string,
    private readonly privateToken: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * GETs `path?query` with a fresh date and signature on every attempt (the SDK retries 5xx and network
   * errors), and returns the parsed JSON body.
   */
  async getJson<T>(http: HttpClient, path: string, params: readonly (readonly [string, QueryValue])[], options: DarktraceGetOptions): Promise<T> {
    return this.interpret(await this.get(http, path, params, options), path, options, (text) => JSON.parse(text) as T);
  }

  /**
   * GETs a list endpoint (a bare JSON array) whose records are forwarded unchanged: each object comes back as
   * a JsonRecord (Darktrace's text, not parsed, and the top-level `fields` read from it), anything else as
   * parsed. A body that is not an array is PullError 301, as `asArray` says it.
   */
  async getRecords(http: HttpClient, path: string, params: readonly (readonly [string, QueryValue])[], options: DarktraceGetOptions, fields: readonly string[]): Promise<unknown[]> {
    const response = await this.get(http, path, params, options);
    // A scavenge now, while the answer is still the HTTP client's rope of decoded reads, so that the young
    // generation is empty for its flatten, scan and encoding: a scavenge during those promotes the flat text (a
    // large object, ~1 MB a 1,000-record page) to the old generation, freed only by a full collection, which a
    // 100,000-event pull never reaches (Microsoft 365's pages do the same; docs/benchmarks.md, wave 11).
    if (response.text.length >= LARGE_PAGE_CHARS) collectYoungGeneration();
    const records = this.interpret(response, path, options, () => {
      const page = jsonRecords(response, '', fields);
      if (page.found === 'array') return page.records;
      const body = page.envelope;
      throw E.pullOther({ error: `GET ${path} returned ${body === null ? 'null' : typeof body} instead of a JSON array: ${JSON.stringify(body).slice(0, 200)}` });
    });
    // The records hold what they need of the text: the request's promises, made before the answer and perhaps
    // promoted while it waited, hold the response, and must not keep the page's text alive (SDK `releaseText`).
    releaseText(response);
    return records;
  }

  private get(http: HttpClient, path: string, params: readonly (readonly [string, QueryValue])[], options: DarktraceGetOptions): Promise<HttpResponse> {
    const query = buildQuery(params);
    const target = `${options.baseUrl ?? this.baseUrl}${path}${query ? `?${query}` : ''}`;
    return requestOrFail(
      http,
      { url: target, headers: (url) => this.signedHeaders(url), timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, ...(options.retries === undefined ? {} : { retries: options.retries }) },
      (detail, error) => (error instanceof CollectorError ? error : options.phase === 'setup' ? E.requestFailed({ error: detail }) : E.pullOther({ error: `GET ${path}: ${detail}` }, { cause: error })),
    );
  }

  /** The headers of one attempt, signed over the path and query exactly as this URL sends them. */
  signedHeaders(url: URL): Record<string, string> {
    const date = formatDtapiDate(this.clock());
    return {
      'DTAPI-Token': this.publicToken,
      'DTAPI-Date': date,
      'DTAPI-Signature': signDarktraceRequest(this.privateToken, this.publicToken, `${url.pathname}${url.search}`, date),
      accept: 'application/json',
    };
  }

  /** The API's error signals mapped to the manual's IDs; a 2xx body is `read` (not JSON: PullError 301 / SetupError). */
  private interpret<T>(response: HttpResponse, path: string, options: DarktraceGetOptions, read: (text: string) => T): T {
    const { status, text } = response;
    const where = `GET ${path}`;
    if (status >= 300 && status < 400) {
      const location = response.headers['location'] ?? '';
      const target = /\/403\b/.test(location) || /Redirecting to \/403/.test(text) ? '/403' : /\/login\b/.test(location) || /Redirecting to \/login/.test(text) ? '/login' : location;
      if (target === '/403') throw E.noPermission({ error: `${where} was redirected to /403 (the token may not use this endpoint)` });
      if (target === '/login') throw E.noPermission({ error: `${where} was redirected to /login (the token is not accepted for this endpoint, or the endpoint does not exist on this instance)` });
      throw options.phase === 'setup' ? E.unexpectedHttp({ status, error: `${where} redirected to ${location || 'nowhere'}` }) : E.pullHttp({ summary: `HTTP ${status} on ${where}`, details: `redirected to ${location}` });
    }
    if (status === 400 && text.includes('API SIGNATURE ERROR')) throw E.wrongTokens({ error: `${where}: API SIGNATURE ERROR` });
    if (status === 400 && text.includes('API DATE ERROR')) {
      const server = response.headers['date'];
      throw E.clockSkew({ clocks: `Local clock: ${this.clock().toISOString()}${server ? `; instance clock (HTTP Date header): ${new Date(server).toISOString()}` : ''}.` });
    }
    if (status === 401) throw E.wrongTokens({ error: `${where}: HTTP 401 ${excerpt(text)}` });
    if (status === 403) throw E.noPermission({ error: `${where}: HTTP 403 ${excerpt(text)}` });
    if (!startsAsJsonContainer(text) && /<title>\s*Log In \| Darktrace\s*<\/title>/i.test(text)) throw E.noPermission({ error: `${where} answered with the login page` });
    if (status === 404 && options.emptyOn404 !== undefined) {
      try {
        const body = JSON.parse(text) as unknown;
        if (body && typeof body === 'object' && 'error' in body) return options.emptyOn404 as T;
      } catch {
        // Not the API's "no data" answer: fall through to the error.
      }
    }
    if (status < 200 || status >= 300) {
      throw options.phase === 'setup' ? E.unexpectedHttp({ status, error: `${where}: ${excerpt(text)}` })
        : E.pullHttp({ summary: `HTTP ${status} on ${where}`, details: excerpt(text) }, { cause: status >= 500 || status === 429 ? new TransientStatus(status) : undefined });
    }
    try {
      return read(text);
    } catch (error) {
      if (error instanceof CollectorError) throw error;
      const detail = `${where} returned a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`;
      throw options.phase === 'setup' ? E.unexpectedHttp({ status, error: detail }) : E.pullOther({ error: detail });
    }
  }

  /** Setup: one cheap signed request proves the tokens and the clock. */
  async validateTokens(http: HttpClient, log: Logger): Promise<void> {
    await this.getJson(http, '/status', [['fast', 'true'], ['includechildren', 'false'], ['responsedata', 'time']], { phase: 'setup' });
    log.info('Tokens have been validated successfully.');
  }
}
