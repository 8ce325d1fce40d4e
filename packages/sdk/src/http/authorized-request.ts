import { HttpError, type HttpClient, type HttpRequest, type HttpResponse } from './http-client.js';
import type { TokenCache } from './token-cache.js';

/** The HttpClient's "the collector is stopping": a stop, never a vendor failure. */
function isAbort(error: unknown): boolean {
  return error instanceof HttpError && error.kind === 'aborted';
}

/**
 * One request whose failure to get any answer (after the client's retries) becomes the vendor's error,
 * except a stop, which is re-thrown as it is so that the runtime sees a stop and not a failed pull.
 */
export async function requestOrFail(http: HttpClient, request: HttpRequest, fail: (detail: string, error: unknown) => Error): Promise<HttpResponse> {
  try {
    return await http.request(request);
  } catch (error) {
    if (isAbort(error)) throw error;
    throw fail(error instanceof Error ? error.message : String(error), error);
  }
}

/** Where a bearer token comes from: a `TokenCache`, or a vendor's wrapper of one (for its own log lines). */
export type TokenSource = Pick<TokenCache, 'get' | 'invalidate'>;

export interface AuthorizedRequest {
  tokens: TokenSource;
  /** The request carrying `token` (the vendor decides the header). */
  request(token: string): HttpRequest;
  /** Besides HTTP 401: the vendor's own "this token is no longer valid" answer (e.g. a body code). */
  tokenRejected?(response: HttpResponse): boolean;
  /** Called before the one retry with a new token: the vendor's log line. */
  onTokenRejected?(response: HttpResponse): void;
  /** What a request that got no answer becomes (a stop is re-thrown as it is). */
  fail(detail: string, error: unknown): Error;
}

/**
 * A request with a bearer token: when the vendor says the token is no longer valid (401 or its predicate),
 * the token is dropped and the request retried ONCE with a new one; a second rejection is returned to the
 * caller, which knows what it means for its vendor (usually a credentials error).
 */
export async function authorizedRequest(http: HttpClient, spec: AuthorizedRequest): Promise<HttpResponse> {
  for (let attempt = 0; ; attempt++) {
    const token = await spec.tokens.get();
    const response = await requestOrFail(http, spec.request(token), spec.fail);
    const rejected = response.status === 401 || (spec.tokenRejected?.(response) ?? false);
    if (!rejected || attempt > 0) return response;
    spec.onTokenRejected?.(response);
    spec.tokens.invalidate();
  }
}
