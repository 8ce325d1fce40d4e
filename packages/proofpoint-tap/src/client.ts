import { STATUS_CODES } from 'node:http';
import { formatUtc, HttpError, registerSecret, type HttpClient, type SetupContext } from '@collector/sdk';
import { proofpointErrors } from './errors.js';

/**
 * The authenticated TAP client: HTTP Basic `service_principal:secret` is static, so setup makes no request
 * (every request spends the 1800-a-day budget); wrong credentials surface as SetupError 100 on the first
 * pull's HTTP 401.
 */
export interface ProofpointClient {
  /** The `Authorization` header value. Registered as a secret: never printed. */
  readonly authorization: string;
  readonly credentialsPath: string;
  /**
   * After an HTTP 401 no service of the input asks again before this time (epoch ms): every request spends
   * the daily budget, and four services retrying wrong credentials every minute would burn through it.
   * In memory only, so a restart after fixing the credentials tries at once.
   */
  credentialsRejectedUntil: number;
}

/** How long wrong credentials keep every service of the input from asking again. */
export const CREDENTIALS_RETRY_MS = 15 * 60_000;

export async function createProofpointClient(ctx: SetupContext): Promise<ProofpointClient> {
  const username = String(ctx.credentials['username'] ?? '');
  const password = String(ctx.credentials['password'] ?? '');
  const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  registerSecret(password);
  registerSecret(authorization.slice('Basic '.length));
  ctx.log.info('Created request client: ProofpointClient (HTTP Basic, service principal)');
  return { authorization, credentialsPath: `inputs.${ctx.inputName}.credentials`, credentialsRejectedUntil: 0 };
}

export interface SiemQuery {
  baseUrl: string;
  /** e.g. `/v2/siem/messages/blocked`. */
  path: string;
  /** The response array of this endpoint, e.g. `messagesBlocked`. */
  arrayKey: string;
  /** The request pool whose budget the request spends. */
  pool: string;
  start: Date;
  end: Date;
}

export interface SiemWindow {
  /** The records of the endpoint's array; empty for 204 and empty arrays. */
  events: Record<string, unknown>[];
  /** `queryEndTime` as Proofpoint reported it (undefined when absent or unreadable). */
  queryEndTime: Date | undefined;
  status: number;
}

/** The summary part of PullError 300: a JSON `message`/`error` field, or the status text. */
function summaryOf(status: number, text: string): { summary: string; details: string } {
  const details = text.replace(/\s+/g, ' ').trim().slice(0, 300);
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const message = body['message'] ?? body['error'] ?? body['errorMessage'];
    if (typeof message === 'string') return { summary: message, details };
  } catch {
    // Proofpoint answers most errors in plain text: the status text is the summary.
  }
  return { summary: STATUS_CODES[status] ?? 'HTTP error', details };
}

/** GET one window: `interval=<start>/<end>`, JSON. */
export async function fetchSiemWindow(http: HttpClient, client: ProofpointClient, query: SiemQuery): Promise<SiemWindow> {
  const endpoint = query.path;
  if (Date.now() < client.credentialsRejectedUntil) {
    throw proofpointErrors.credentials(401, client.credentialsPath, new Date(client.credentialsRejectedUntil));
  }
  let response;
  try {
    response = await http.request({
      url: `${query.baseUrl}${query.path}`,
      query: { format: 'json', interval: `${formatUtc(query.start)}/${formatUtc(query.end)}` },
      headers: { authorization: client.authorization, accept: 'application/json' },
      pool: query.pool,
    });
  } catch (error) {
    throw proofpointErrors.request(error instanceof HttpError ? error.message : String(error), endpoint);
  }
  if (response.status === 204) return { events: [], queryEndTime: undefined, status: 204 };
  if (response.status === 401) {
    client.credentialsRejectedUntil = Date.now() + CREDENTIALS_RETRY_MS;
    throw proofpointErrors.credentials(401, client.credentialsPath);
  }
  if (response.status !== 200) {
    const { summary, details } = summaryOf(response.status, response.text);
    throw proofpointErrors.http(response.status, summary, details, endpoint);
  }
  // "Nothing matched" is a 204. A 200 without a body is a broken answer (a proxy, a cut connection): taking
  // it as an empty window would move the cursor past events never read.
  if (response.text.trim() === '') throw proofpointErrors.request('an empty answer with HTTP 200', endpoint);
  let body: unknown;
  try {
    body = response.json();
  } catch (error) {
    throw proofpointErrors.request(error instanceof Error ? error.message : String(error), endpoint);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw proofpointErrors.request(`the answer is not a JSON object: ${JSON.stringify(response.text.slice(0, 200))}`, endpoint);
  }
  const record = body as Record<string, unknown>;
  const array = record[query.arrayKey];
  // The documented envelope or nothing: a missing array or a mistyped field is a broken answer, never an
  // empty window (the cursor would move past events never read).
  if (!Array.isArray(array)) {
    throw proofpointErrors.request(`the answer has no "${query.arrayKey}" array: ${JSON.stringify(response.text.slice(0, 200))}`, endpoint);
  }
  if (record['queryEndTime'] !== undefined && typeof record['queryEndTime'] !== 'string') {
    throw proofpointErrors.request(`"queryEndTime" is not a time: ${JSON.stringify(record['queryEndTime'])}`, endpoint);
  }
  // Only objects are events: an empty array, or a null inside it, never becomes one.
  const events = array.filter((e): e is Record<string, unknown> => !!e && typeof e === 'object' && !Array.isArray(e));
  const reported = typeof record['queryEndTime'] === 'string' ? new Date(record['queryEndTime']) : undefined;
  return { events, queryEndTime: reported && !Number.isNaN(reported.getTime()) ? reported : undefined, status: 200 };
}
