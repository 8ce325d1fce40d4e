import { HttpError, type HttpResponse } from '../http/http-client.js';
import { JsonSyntaxError, scanJsonArray, type JsonArrayScan } from './json-array-scan.js';
import { JsonRecord, PULLING_ID } from './json-record.js';

/** A page's records and the rest of it: see `jsonRecords`. */
export interface JsonRecords<Envelope> {
  /** What was at the path: 'array', 'missing' (no such key) or 'other' (a value that is not an array). */
  found: 'array' | 'missing' | 'other';
  /**
   * The elements: a JsonRecord for each object, the parsed value for anything else (`null`, a string…),
   * which the runner treats as before (null is skipped, other values are serialised).
   */
  records: unknown[];
  /** The page parsed without the array's elements (`"items":[]`): paging tokens, status codes. */
  envelope: Envelope;
}

/**
 * Reads a JSON answer whose records are the array at `path` (`'data.items'`, `'value'`, `''` for a bare
 * array) without parsing the records: each object becomes a JsonRecord (its text, and the top-level `fields`
 * its dedup key needs). The whole text is validated as JSON; when it is not, throws HttpError('body') as
 * `response.json()` does, with where the text broke.
 */
export function jsonRecords<Envelope = unknown>(response: HttpResponse, path: string | readonly string[], fields: readonly string[] = []): JsonRecords<Envelope> {
  let scan: JsonArrayScan;
  let envelope: Envelope;
  try {
    scan = scanJsonArray(response.text, path, [...fields, PULLING_ID]);
    envelope = scan.envelope<Envelope>();
  } catch (error) {
    if (!(error instanceof JsonSyntaxError) && !(error instanceof SyntaxError)) throw error;
    const url = new URL(response.url);
    throw new HttpError('body', `Invalid JSON from ${url.host}${url.pathname} (HTTP ${response.status}): ${error.message}: ${JSON.stringify(response.text.slice(0, 200))}`, response.status);
  }
  const records = new Array<unknown>(scan.length);
  for (let i = 0; i < records.length; i++) records[i] = scan.isObject(i) ? new JsonRecord(scan, i) : (JSON.parse(scan.elementText(i)) as unknown);
  return { found: scan.found, records, envelope };
}

