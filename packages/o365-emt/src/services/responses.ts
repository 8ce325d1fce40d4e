import { HttpError, type HttpResponse } from '@collector/sdk';
import { describeBody, o365Errors } from '../errors.js';

/** Maps a non-200 answer of a data API to the documented error (the 401 has already been retried once). */
export function checkResponse(api: 'rws' | 'graph', res: HttpResponse, path: string): void {
  if (res.status === 200) return;
  const detail = describeBody(res.text);
  const host = new URL(res.url).host;
  if (res.status === 401) {
    throw o365Errors.authenticationFailed({ error: `HTTP 401 from ${host} even with a fresh token: ${detail}. ${api === 'rws' ? 'The Reporting Web Service answers 401 with an HTML page when the app lacks ReportingWebService.Read.All or its role, or when the tenant no longer has the service.' : 'Graph answers 401 until the Message Trace service principal has propagated (hours), or when the token is for the wrong audience.'}` }, { path });
  }
  if (res.status === 403) throw (api === 'rws' ? o365Errors.noPermissionRws : o365Errors.noPermissionGraph)({ error: detail }, { path });
  if (res.status === 429) throw o365Errors.stillThrottled({ error: detail }, { path });
  if (res.status === 400) throw o365Errors.queryRejected({ error: detail }, { path });
  throw o365Errors.unexpectedStatus({ status: res.status, error: detail }, { path });
}

/** Parses a JSON body or raises PullError 301. */
export function jsonBody(res: HttpResponse, path: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = res.json();
  } catch (error) {
    throw o365Errors.unreadableBody({ error: error instanceof HttpError ? error.message : String(error) }, { path });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw o365Errors.unreadableBody({ error: `expected a JSON object, got ${JSON.stringify(res.text.slice(0, 100))}` }, { path });
  return body as Record<string, unknown>;
}
