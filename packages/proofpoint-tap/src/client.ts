import { createRequire } from 'node:module';
import { collectYoungGeneration, formatUtc, HttpError, JsonRecord, jsonRecords, LARGE_PAGE_CHARS, PullError, registerSecret, releaseText, type HttpClient, type HttpRequest, type HttpResponse, type SetupContext } from '@collector/sdk';
import { proofpointErrors } from './errors.js';

// require(), not import: an ES import of node:http also loads Node's bundled undici (+11 MiB of resident
// memory; the SDK's http/node-http.ts says why).
const { STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

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
  /** Request pools whose arithmetic was logged already: once per pool and input, not once per service. */
  readonly describedPools: Set<string>;
}

/** How long wrong credentials keep every service of the input from asking again. */
export const CREDENTIALS_RETRY_MS = 15 * 60_000;

export async function createProofpointClient(ctx: SetupContext): Promise<ProofpointClient> {
  // The manual's first setup line: nothing is authenticated until the client below exists.
  ctx.log.warning('The token/header/authentication has not been created yet');
  const username = String(ctx.credentials['username'] ?? '');
  const password = String(ctx.credentials['password'] ?? '');
  const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  registerSecret(password);
  registerSecret(authorization.slice('Basic '.length));
  ctx.log.info('Created request client: ProofpointClient (HTTP Basic, service principal)');
  return { authorization, credentialsPath: `inputs.${ctx.inputName}.credentials`, credentialsRejectedUntil: 0, describedPools: new Set() };
}

export interface SiemQuery {
  baseUrl: string;
  /** e.g. `/v2/siem/messages/blocked`. */
  path: string;
  /** The response arrays of this endpoint, e.g. `['messagesBlocked']`; `/v2/siem/all` has all four. */
  arrayKeys: readonly string[];
  /** The request pool whose budget the request spends. */
  pool: string;
  start: Date;
  end: Date;
  /**
   * Records forwarded unchanged (one array only): each comes back as a JsonRecord, Proofpoint's text not
   * parsed, with these top-level fields read from it (the dedup key's). Otherwise records are parsed.
   */
  forwardFields?: readonly string[];
}

export interface SiemWindow {
  /** The records of the endpoint's arrays (JsonRecords with `forwardFields`); empty for 204 and empty arrays. */
  events: (Record<string, unknown> | JsonRecord)[];
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

/**
 * One authenticated GET. Network failures are PullError 301, a 401 is SetupError 100 (and holds every
 * service of the input back for 15 minutes); any other status is the caller's to read.
 */
async function get(http: HttpClient, client: ProofpointClient, endpoint: string, request: Omit<HttpRequest, 'headers'>): Promise<HttpResponse> {
  if (Date.now() < client.credentialsRejectedUntil) {
    throw proofpointErrors.credentialsHeldBack({ status: 401, path: client.credentialsPath, until: new Date(client.credentialsRejectedUntil).toISOString().replace(/\.\d{3}Z$/, 'Z') });
  }
  let response;
  try {
    response = await http.request({ ...request, headers: { authorization: client.authorization, accept: 'application/json' } });
  } catch (error) {
    throw proofpointErrors.request({ endpoint, error: error instanceof HttpError ? error.message : String(error) });
  }
  if (response.status === 401) {
    client.credentialsRejectedUntil = Date.now() + CREDENTIALS_RETRY_MS;
    throw proofpointErrors.credentials({ status: 401, path: client.credentialsPath });
  }
  return response;
}

/** A 200 answer's JSON object, or PullError 301 (an empty body, not JSON, not an object). */
function jsonObject(response: HttpResponse, endpoint: string): Record<string, unknown> {
  // A 200 without a body is a broken answer (a proxy, a cut connection): taking it as an empty window would
  // move the cursor past events never read.
  if (response.text.trim() === '') throw proofpointErrors.request({ endpoint, error: 'an empty answer with HTTP 200' });
  let body: unknown;
  try {
    body = response.json();
  } catch (error) {
    throw proofpointErrors.request({ endpoint, error: error instanceof Error ? error.message : String(error) });
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw proofpointErrors.request({ endpoint, error: `the answer is not a JSON object: ${JSON.stringify(response.text.slice(0, 200))}` });
  }
  return body as Record<string, unknown>;
}

/** A 200 answer whose `array` is read as JsonRecords (see SiemQuery.forwardFields): PullError 301 when it is not a JSON object. */
function forwardedRecords(response: HttpResponse, endpoint: string, array: string, fields: readonly string[]) {
  if (response.text.trim() === '') throw proofpointErrors.request({ endpoint, error: 'an empty answer with HTTP 200' });
  let page;
  try {
    page = jsonRecords<unknown>(response, array, fields);
  } catch (error) {
    throw proofpointErrors.request({ endpoint, error: error instanceof Error ? error.message : String(error) });
  }
  const body = page.envelope;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw proofpointErrors.request({ endpoint, error: `the answer is not a JSON object: ${JSON.stringify(response.text.slice(0, 200))}` });
  }
  return { found: page.found, records: page.records, envelope: body as Record<string, unknown> };
}

/** PullError 300 for a status the caller does not expect. */
function httpError(response: HttpResponse, endpoint: string) {
  const { summary, details } = summaryOf(response.status, response.text);
  return proofpointErrors.http({ status: response.status, endpoint, answer: details ? `${summary} - ${details}` : summary });
}

/** GET one window: `interval=<start>/<end>`, JSON. */
export async function fetchSiemWindow(http: HttpClient, client: ProofpointClient, query: SiemQuery): Promise<SiemWindow> {
  const endpoint = query.path;
  const response = await get(http, client, endpoint, {
    url: `${query.baseUrl}${query.path}`,
    query: { format: 'json', interval: `${formatUtc(query.start)}/${formatUtc(query.end)}` },
    pool: query.pool,
  });
  if (response.status === 204) return { events: [], queryEndTime: undefined, status: 204 };
  if (response.status !== 200) throw httpError(response, endpoint);
  // A scavenge now, while the answer is still the HTTP client's rope of decoded reads (its first trim()
  // flattens it), so that the young generation is empty for the flat text's scan and the records' encoding: a
  // scavenge during those promotes the 3 MB text (a large object) to the old generation, freed only by a full
  // collection, which a 100,000-event pull never reaches (docs/benchmarks.md, wave 11). Before the request
  // instead (wave 10) the reads themselves filled the young generation again.
  if (response.text.length >= LARGE_PAGE_CHARS) collectYoungGeneration();
  const forward = query.forwardFields && query.arrayKeys.length === 1 ? forwardedRecords(response, endpoint, query.arrayKeys[0]!, query.forwardFields) : undefined;
  const record = forward ? forward.envelope : jsonObject(response, endpoint);
  // The documented envelope or nothing: a missing array or a mistyped field is a broken answer, never an
  // empty window (the cursor would move past events never read).
  const events: (Record<string, unknown> | JsonRecord)[] = [];
  for (const key of query.arrayKeys) {
    const array = forward ? (forward.found === 'array' ? forward.records : undefined) : record[key];
    if (!Array.isArray(array)) {
      throw proofpointErrors.request({ endpoint, error: `the answer has no "${key}" array: ${JSON.stringify(response.text.slice(0, 200))}` });
    }
    // Only objects are events: an empty array, or a null inside it, never becomes one.
    for (const e of array) if (e instanceof JsonRecord || (e && typeof e === 'object' && !Array.isArray(e))) events.push(e as Record<string, unknown> | JsonRecord);
  }
  if (record['queryEndTime'] !== undefined && typeof record['queryEndTime'] !== 'string') {
    throw proofpointErrors.request({ endpoint, error: `"queryEndTime" is not a time: ${JSON.stringify(record['queryEndTime'])}` });
  }
  const reported = typeof record['queryEndTime'] === 'string' ? new Date(record['queryEndTime']) : undefined;
  // The records hold what they need of the text: the request's promises, made before the answer and perhaps
  // promoted while it waited, hold the response, and must not keep a 3 MB text alive (SDK `releaseText`).
  releaseText(response);
  return { events, queryEndTime: reported && !Number.isNaN(reported.getTime()) ? reported : undefined, status: 200 };
}

/**
 * `GET /v2/threat/summary/<threatId>` (the Threat API: no throttle limits, so it spends no pool). Undefined
 * when Proofpoint does not know the threat (HTTP 404).
 */
export async function fetchThreatSummary(http: HttpClient, client: ProofpointClient, baseUrl: string, threatId: string): Promise<Record<string, unknown> | undefined> {
  const endpoint = '/v2/threat/summary/<threatId>';
  const response = await get(http, client, endpoint, { url: `${baseUrl}/v2/threat/summary/${encodeURIComponent(threatId)}`, unlimited: true });
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw httpError(response, endpoint);
  return jsonObject(response, endpoint);
}

/** The reports, or why there are none now (`status`: Proofpoint's answer, when it gave one; 404 = no forensics). */
export type ForensicsResult = { reports: Record<string, unknown>[] } | { unavailable: string; status?: number };

/**
 * `GET /v2/forensics?threatId=<id>&includecampaignforensics=true` (the Forensics API, pool `forensics`: 50
 * requests per 24 h). Never retried here: a 429 or 5xx would otherwise wait for hours inside a pull, so any
 * answer but 200 comes back as `unavailable` (with 404 meaning Proofpoint has no forensics for the threat)
 * and the caller tries again later. A wrong credential is still SetupError 100.
 */
export async function fetchThreatForensics(http: HttpClient, client: ProofpointClient, baseUrl: string, threatId: string): Promise<ForensicsResult> {
  const endpoint = '/v2/forensics';
  let status: number | undefined;
  try {
    const response = await get(http, client, endpoint, {
      url: `${baseUrl}/v2/forensics`,
      query: { threatId, includecampaignforensics: true },
      pool: 'forensics',
      retries: 0,
    });
    status = response.status;
    if (response.status !== 200) throw httpError(response, endpoint);
    const reports = jsonObject(response, endpoint)['reports'];
    if (!Array.isArray(reports)) throw proofpointErrors.request({ endpoint, error: `the answer has no "reports" array: ${JSON.stringify(response.text.slice(0, 200))}` });
    return { reports: reports.filter((r): r is Record<string, unknown> => !!r && typeof r === 'object' && !Array.isArray(r)) };
  } catch (error) {
    if (error instanceof PullError) return { unavailable: error.message, status };
    throw error;
  }
}
