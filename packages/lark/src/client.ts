import { authorizedRequest, HttpError, jsonRecords, registerSecret, requestOrFail, TokenCache, type HttpClient, type HttpResponse, type Logger } from '@collector/sdk';
import { larkErrors } from './errors.js';

/** The manual reuses a token for at most 40 minutes ("the token expires around that time"). */
export const TOKEN_MAX_AGE_SECONDS = 40 * 60;
/** Refresh this early (the official SDKs use 3 min), but never more than a tenth of a short token's life. */
export const TOKEN_REFRESH_EARLY_SECONDS = 3 * 60;
/** Body codes that mean "this tenant_access_token is invalid or expired": refresh it and retry once. */
export const TOKEN_INVALID_CODES: ReadonlySet<number> = new Set([99991663, 99991664, 99991668, 99991671]);
/** Lark's "request trigger frequency limit", sent with HTTP 429 (or 400/200 by older gateways). */
export const RATE_LIMIT_CODE = 99991400;
/** The API's maximum page size. */
export const AUDIT_INFOS_PAGE_SIZE = 200;

export const TOKEN_PATH = '/open-apis/auth/v3/tenant_access_token/internal';
export const AUDIT_INFOS_PATH = '/open-apis/admin/v1/audit_infos';

/** How long to reuse a token Lark says lives `expireSeconds`: capped at 40 min, minus the early refresh. */
export function usableTokenSeconds(expireSeconds: number | undefined): number {
  const life = Math.min(TOKEN_MAX_AGE_SECONDS, expireSeconds !== undefined && expireSeconds > 0 ? expireSeconds : TOKEN_MAX_AGE_SECONDS);
  return life - Math.min(TOKEN_REFRESH_EARLY_SECONDS, life / 10);
}

/** One audit log record, exactly as Lark returns it (forwarded unchanged). */
export interface LarkAuditInfo {
  unique_id?: string;
  event_id?: string;
  event_name?: string;
  /** Epoch seconds. */
  event_time?: number;
  [key: string]: unknown;
}

export interface AuditInfosQuery {
  /** Epoch seconds, inclusive. */
  oldest: number;
  /** Epoch seconds, the upper bound (inclusive). */
  latest: number;
  pageToken?: string;
  pageSize?: number;
}

export interface AuditInfosPage {
  /**
   * The records as Lark sent them: a JsonRecord (the record's text, forwarded unchanged, and its `unique_id`)
   * for each object; anything else as parsed.
   */
  items: unknown[];
  /** Present only when there are more pages. */
  pageToken: string | undefined;
}

/**
 * A failed audit_infos request, neutral about when it happened: setup maps it to SetupError 103/104, a pull
 * to PullError 300/301. `rejected` means Lark answered with an error; otherwise there was no usable answer.
 */
export class LarkRequestError extends Error {
  constructor(
    readonly rejected: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'LarkRequestError';
  }
}

interface LarkBody {
  code?: number;
  msg?: string;
  data?: { has_more?: boolean; page_token?: string; items?: unknown };
  tenant_access_token?: string;
  expire?: number;
}

function describeAnswer(response: HttpResponse, body: LarkBody | undefined): string {
  return `Lark answered HTTP ${response.status}${body?.code !== undefined ? `, code ${body.code}` : ''}${body?.msg ? `: ${body.msg}` : ''}`;
}

/** The answer's JSON body, or why it is not JSON. */
function readBody(response: HttpResponse): LarkBody | Error {
  try {
    return response.json<LarkBody>();
  } catch (error) {
    return error as Error;
  }
}

const bodyOrUndefined = (read: LarkBody | Error) => (read instanceof Error ? undefined : read);

/** Small bodies only: a 200 page of audit logs is never a throttling answer, so don't parse it twice. */
function smallBodyCode(response: HttpResponse): number | undefined {
  if (response.text.length > 4096) return undefined;
  try {
    return (JSON.parse(response.text) as LarkBody).code;
  } catch {
    return undefined;
  }
}

export function isThrottled(response: HttpResponse): boolean {
  return response.status === 429 || smallBodyCode(response) === RATE_LIMIT_CODE;
}

/** Lark's `x-ogw-ratelimit-reset` (seconds until the window frees a slot); there is no Retry-After. */
export function rateLimitResetMs(response: HttpResponse): number | undefined {
  const seconds = Number(response.headers['x-ogw-ratelimit-reset']);
  return response.headers['x-ogw-ratelimit-reset'] !== undefined && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

export interface LarkClientOptions {
  /** e.g. https://open.larksuite.com, no trailing slash. */
  baseUrl: string;
  appId: string;
  appSecret: string;
  /** Used for token requests (they don't spend the audit_infos budget). */
  http: HttpClient;
  /** The setup module's logger: the manual's token lines come from `LarkBasePullerSetup`. */
  log: Logger;
  clock?: () => number;
}

/** Lark's tenant token and the audit_infos endpoint. Knows Lark and nothing else. */
export class LarkClient {
  readonly baseUrl: string;
  private readonly tokens: TokenCache;

  constructor(private readonly options: LarkClientOptions) {
    this.baseUrl = options.baseUrl;
    this.tokens = new TokenCache(() => this.fetchToken(), { maxAgeMs: TOKEN_MAX_AGE_SECONDS * 1000, clock: options.clock });
  }

  /** Makes sure a token is at hand, saying which way as the manual does. Throws SetupError 100–102. */
  async ensureToken(): Promise<void> {
    if (this.tokens.valid) this.options.log.info('Token is valid. Skipping the generation of new auth token');
    else await this.tokens.get();
  }

  private async fetchToken(): Promise<{ value: string; expiresInSeconds: number }> {
    const response = await requestOrFail(
      this.options.http,
      { method: 'POST', url: `${this.baseUrl}${TOKEN_PATH}`, json: { app_id: this.options.appId, app_secret: this.options.appSecret }, unlimited: true },
      (error) => larkErrors.tokenFailed({ error }),
    );
    let body: LarkBody | undefined;
    try {
      body = response.json<LarkBody>();
    } catch (error) {
      if (response.status >= 400 && response.status < 500) throw larkErrors.tokenRejected({ detail: describeAnswer(response, undefined) });
      if (response.status >= 500) throw larkErrors.tokenStatus({ status: response.status });
      throw larkErrors.tokenFailed({ error: (error as Error).message });
    }
    if (response.status >= 500) throw larkErrors.tokenStatus({ status: response.status }, { detail: describeAnswer(response, body) });
    if (response.status >= 400 || (body.code !== undefined && body.code !== 0)) throw larkErrors.tokenRejected({ detail: describeAnswer(response, body) });
    const token = body.tenant_access_token;
    if (typeof token !== 'string' || token.length === 0) throw larkErrors.tokenStatus({ status: response.status }, { detail: 'The answer holds no tenant_access_token' });
    // The token is a credential too: mask it wherever it might be echoed.
    registerSecret(token);
    this.options.log.info('Successfully generated auth token for Lark API');
    return { value: token, expiresInSeconds: usableTokenSeconds(body.expire) };
  }

  /**
   * One page of `GET /open-apis/admin/v1/audit_infos`. Throttling (429 or code 99991400) is waited out by the
   * HttpClient using `x-ogw-ratelimit-reset`; an invalid token (401 or its body codes) is refreshed and the
   * request retried once. Token failures throw SetupError 100–102; anything else LarkRequestError.
   */
  async listAuditInfos(http: HttpClient, query: AuditInfosQuery): Promise<AuditInfosPage> {
    const response = await authorizedRequest(http, {
      tokens: this.tokens,
      request: (token) => ({
        url: `${this.baseUrl}${AUDIT_INFOS_PATH}`,
        query: { oldest: query.oldest, latest: query.latest, page_size: query.pageSize ?? AUDIT_INFOS_PAGE_SIZE, page_token: query.pageToken },
        headers: { authorization: `Bearer ${token}` },
        isThrottled,
        retryAfterMs: rateLimitResetMs,
      }),
      tokenRejected: (answer) => {
        const code = smallBodyCode(answer);
        return code !== undefined && TOKEN_INVALID_CODES.has(code);
      },
      onTokenRejected: (answer) => this.options.log.warning(`Lark says the auth token is no longer valid (${describeAnswer(answer, bodyOrUndefined(readBody(answer)))}); generating a new one`),
      fail: (detail) => new LarkRequestError(false, detail),
    });
    if (response.status !== 200) {
      const read = readBody(response);
      throw new LarkRequestError(true, describeAnswer(response, bodyOrUndefined(read)));
    }
    // The records are not parsed: each is forwarded as Lark's text, and only its unique_id (the dedup key) is read.
    let page;
    try {
      page = jsonRecords<LarkBody | null>(response, 'data.items', ['unique_id']);
    } catch (error) {
      if (error instanceof HttpError) throw new LarkRequestError(false, error.message);
      throw error;
    }
    const body = page.envelope;
    if (!body || typeof body !== 'object') throw new LarkRequestError(false, 'empty answer');
    if (body.code !== 0) throw new LarkRequestError(true, describeAnswer(response, body));
    const data = body.data ?? {};
    // `"items": null` reads as no items, as before; any other non-list is a broken answer.
    if (page.found === 'other' && data.items !== null) throw new LarkRequestError(false, 'data.items is not a list');
    // has_more without a token would end the paging early and lose the rest: refuse it instead.
    if (data.has_more === true && !data.page_token) throw new LarkRequestError(false, 'has_more is true but the answer holds no page_token');
    return { items: page.records, pageToken: data.has_more === true ? data.page_token : undefined };
  }

  /** Setup's check that the app may read the audit log ("Remote source is pullable"): SetupError 103/104. */
  async probe(http: HttpClient, now = Date.now()): Promise<void> {
    const latest = Math.floor(now / 1000);
    try {
      await this.listAuditInfos(http, { oldest: latest - 60, latest, pageSize: 1 });
    } catch (error) {
      if (error instanceof LarkRequestError) throw error.rejected ? larkErrors.probeRejected({ detail: error.message }) : larkErrors.probeFailed({ error: error.message });
      throw error;
    }
    this.options.log.info('Remote source is pullable');
  }
}
