import type { JsonArrayScan } from './json-array-scan.js';

/** Scanned for every record, after the vendor's fields: a record that holds it already is sent as it is. */
export const PULLING_ID = '@devo_pulling_id';

/**
 * One record of a page as the vendor's JSON text, for a service that forwards records unchanged: the runner
 * sends `text` with `@devo_pulling_id` appended (no `JSON.stringify`), and the service's dedup key reads the
 * fields it asked `jsonRecords` for with `get` (`recordField` reads either this or a parsed object).
 */
export class JsonRecord {
  constructor(
    private readonly page: JsonArrayScan,
    private readonly index: number,
  ) {}

  /** The record's JSON text as the vendor sent it, on one line (a pretty-printed record is compacted). */
  get text(): string {
    return this.page.elementText(this.index);
  }

  /**
   * A top-level field (one named to `jsonRecords`) when its value is a JSON string without escapes, read
   * without `JSON.parse`; undefined when it is anything else (absent, not a string, escaped: `get` reads
   * those). The string may be a slice of the page (V8 shares the page's memory): use it at once, e.g. in the
   * text a dedup key is hashed from, and never keep it (it would keep the whole page alive); `get` copies.
   */
  plainString(field: string): string | undefined {
    return this.page.plainString(this.index, this.fieldIndex(field));
  }

  /**
   * The JSON text of a top-level field's value (one named to `jsonRecords`) as the vendor sent it, undefined
   * when absent; valid JSON (the page was validated). A slice of the page, like `plainString`: use it at once.
   */
  fieldText(field: string): string | undefined {
    return this.page.fieldText(this.index, this.fieldIndex(field));
  }

  /** Whether the record has a top-level `@devo_pulling_id` already (it is then sent as it is). */
  get holdsPullingId(): boolean {
    return this.page.fieldText(this.index, this.page.fields.length - 1) !== undefined;
  }

  /**
   * A top-level field, as `JSON.parse` would give it; only fields named to `jsonRecords` can be read (any
   * other name throws: a typo must not read as "absent" and silently change a dedup key).
   */
  get(field: string): unknown {
    return this.page.fieldValue(this.index, this.fieldIndex(field));
  }

  private fieldIndex(field: string): number {
    const f = this.page.fields.indexOf(field);
    if (f < 0 || f === this.page.fields.length - 1) throw new Error(`JsonRecord: "${field}" was not among the fields scanned (${this.page.fields.slice(0, -1).join(', ')})`);
    return f;
  }

  /**
   * The record's message as a string (`EventEncoder.encode`): its text with `extender.extend` (the `@devo_*`
   * fields appended), or the text alone when it holds a pulling id already. The runner does not take this path:
   * it copies the text into the batch's bytes (`EventEncoder.encodeInto`), so no message string waits there.
   */
  message(extender: { extend(json: string): string }): string {
    return this.holdsPullingId ? this.text : extender.extend(this.text);
  }

  /** The whole record parsed (for what needs more than the scanned fields, e.g. an earlier dedup key). */
  value(): unknown {
    return JSON.parse(this.text) as unknown;
  }

  toJSON(): unknown {
    return this.value();
  }
}

/** A top-level field of a record, whether a JsonRecord (a field it was scanned for) or a parsed object. */
export function recordField(record: unknown, field: string): unknown {
  if (record instanceof JsonRecord) return record.get(field);
  return record !== null && typeof record === 'object' ? (record as Record<string, unknown>)[field] : undefined;
}
