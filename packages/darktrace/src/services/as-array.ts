import { darktraceErrors } from '../errors.js';

/** The list endpoints answer a bare JSON array; anything else is a broken response, not "no data". */
export function asArray<T>(body: unknown, path: string): T[] {
  if (Array.isArray(body)) return body as T[];
  throw darktraceErrors.pullOther({ error: `GET ${path} returned ${body === null ? 'null' : typeof body} instead of a JSON array: ${JSON.stringify(body).slice(0, 200)}` });
}
