import { authorizedRequest, registerSecret, requestOrFail, TokenCache, type HttpClient, type HttpResponse, type Logger } from '@collector/sdk';
import { describeBody, o365Errors } from './errors.js';
import type { Credentials } from './config.js';

/**
 * Which token a request needs. The Reporting Web Service takes an Entra token for the Exchange Online
 * resource (v1 endpoint with `resource`, as the Devo manual does it, or v2 with `scope=<resource>/.default`);
 * Graph takes a v2 token for `https://graph.microsoft.com/.default`.
 */
export interface TokenSpec {
  endpoint: 'v1' | 'v2';
  /** e.g. https://login.microsoftonline.com (override_base_auth_url). */
  authUrl: string;
  /** e.g. https://outlook.office365.com (override_base_resource_url). */
  resource: string;
  timeoutMs?: number;
}

/** Refresh a token five minutes before Entra says it expires (they live about an hour). */
const REFRESH_EARLY_MS = 5 * 60_000;

export function tokenUrl(spec: TokenSpec, tenantId: string): string {
  const tenant = encodeURIComponent(tenantId);
  return spec.endpoint === 'v1' ? `${spec.authUrl}/${tenant}/oauth2/token` : `${spec.authUrl}/${tenant}/oauth2/v2.0/token`;
}

/**
 * The input's one client, shared by both services: it keeps one token cache per (endpoint, auth URL,
 * resource), so the RWS token and the Graph token never overwrite each other, and it retries a request
 * once with a fresh token when the API says 401 (expired or revoked token).
 */
export class O365Client {
  private readonly caches = new Map<string, TokenCache>();
  /** The log of the service that needs a token, so token lines carry that service's name. */
  private readonly logs = new Map<string, Logger>();

  constructor(
    private readonly credentials: Credentials,
    private readonly http: HttpClient,
    private readonly log: Logger,
  ) {}

  private key(spec: TokenSpec): string {
    return `${spec.endpoint} ${spec.authUrl} ${spec.resource}`;
  }

  private cache(spec: TokenSpec): TokenCache {
    const key = this.key(spec);
    let cache = this.caches.get(key);
    if (!cache) {
      cache = new TokenCache(() => this.fetchToken(spec, this.logs.get(key) ?? this.log), { maxAgeMs: 24 * 3_600_000, refreshEarlyMs: REFRESH_EARLY_MS });
      this.caches.set(key, cache);
    }
    return cache;
  }

  /** A valid bearer token for `spec` (cached). Throws SetupError 100/101/102. */
  token(spec: TokenSpec, log: Logger = this.log): Promise<string> {
    const cache = this.cache(spec);
    if (!cache.valid) {
      this.logs.set(this.key(spec), log);
      log.info('We do not have a token. Getting a new one from the server.');
    }
    return cache.get();
  }

  invalidate(spec: TokenSpec): void {
    this.cache(spec).invalidate();
  }

  private async fetchToken(spec: TokenSpec, log: Logger): Promise<{ value: string; expiresInSeconds?: number }> {
    const url = tokenUrl(spec, this.credentials.tenantId);
    const form: Record<string, string> = {
      grant_type: 'client_credentials',
      client_id: this.credentials.clientId,
      client_secret: this.credentials.clientSecret,
    };
    if (spec.endpoint === 'v1') form['resource'] = spec.resource;
    else form['scope'] = `${spec.resource}/.default`;
    log.info('Attempting to get OAuth2 token from O365 Message Tracing server....');
    const res = await requestOrFail(this.http, { method: 'POST', url, form, unlimited: true, timeoutMs: spec.timeoutMs, retries: 3 }, (detail) => o365Errors.accessTokenError({ error: detail }));
    if (res.status === 401) throw o365Errors.authenticationFailed({ error: `HTTP 401 from the token endpoint: ${describeBody(res.text)}` });
    if (res.status !== 200) throw o365Errors.unexpectedTokenStatus({ error: `HTTP ${res.status}: ${describeBody(res.text)}` });
    let body: Record<string, unknown>;
    try {
      body = res.json<Record<string, unknown>>();
    } catch (error) {
      throw o365Errors.accessTokenError({ error: (error as Error).message });
    }
    const value = body['access_token'];
    if (typeof value !== 'string' || value.length === 0) throw o365Errors.accessTokenError({ error: 'the token response holds no access_token' });
    // A token is a credential too: never let it reach a log line or an error message.
    registerSecret(value);
    const expires = Number(body['expires_in']);
    const expiresInSeconds = Number.isFinite(expires) && expires > 0 ? expires : 3599;
    log.info(`Successfully received JWT token from ${url} which expires in ${expiresInSeconds} seconds`);
    return { value, expiresInSeconds };
  }

  /**
   * GET with the bearer token of `spec`. A 401 invalidates the token and retries once with a new one; a
   * second 401 is returned to the caller (which raises SetupError 100). Network failures after the HTTP
   * client's retries become PullError 302.
   */
  async get(http: HttpClient, spec: TokenSpec, url: string, options: { timeoutMs?: number; pool?: string; path?: string; log?: Logger; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const log = options.log ?? this.log;
    return authorizedRequest(http, {
      tokens: { get: () => this.token(spec, log), invalidate: () => this.invalidate(spec) },
      request: (token) => ({ url, headers: { ...options.headers, authorization: `Bearer ${token}`, accept: 'application/json' }, timeoutMs: options.timeoutMs, pool: options.pool }),
      onTokenRejected: (res) => log.warning(`HTTP 401 from ${new URL(url).host} (${describeBody(res.text)}): the token expired or was revoked; getting a new one and retrying once`),
      fail: (detail) => o365Errors.requestFailed({ error: detail }, { path: options.path }),
    });
  }
}
