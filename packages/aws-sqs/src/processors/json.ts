import { isUtf8 } from 'node:buffer';
import { decodeText } from '../formats/decode.js';
import type { ObjectDecoder } from '../formats/decoders.js';
import { JsonValueScanner, type JsonUnitSink, type UnitKind } from '../formats/json-scanner.js';
import { appendFields } from '../formats/serialize.js';
import { VPC_V2_FIELDS, VpcRecordBuilder } from '../formats/vpc-flow.js';
import type { ProcessorContext } from './types.js';

/** What becomes of each `logEvents[]` element of a CloudWatch Logs subscription document (Firehose). */
export type CloudWatchMessage = 'json' | 'raw' | 'fields';

/** How the JSON engine turns documents into records; every JSON processor is one setting of it. */
export interface JsonEngineOptions {
  /** Arrays of a top-level object whose elements are the records (`Records`, or a processor's `key`). */
  splitKeys: readonly string[];
  /**
   * CloudWatch Logs subscription documents (`{"messageType":"DATA_MESSAGE",...,"logEvents":[...]}`):
   * `json` = a message that is a JSON object is the record (CloudTrail through CloudWatch Logs), any other
   * message gives `raw`; `raw` = the log event with `owner`, `logGroup`, `logStream`; `fields` = the message
   * split on spaces into `fieldNames` (VPC flow records). CONTROL_MESSAGE documents carry no data.
   */
  cloudwatch?: CloudWatchMessage;
  fieldNames?: readonly string[];
  /** With `fields`: top-level documents without `logEvents` carry nothing (VPC via CloudWatch). */
  logEventsOnly?: boolean;
  /** The record is this key's value of each document (an array gives one record per element). */
  extract?: string;
  /** Envelope keys copied into every record split from it: `{envelope key: record key}`. */
  include?: Readonly<Record<string, string>>;
  /** Record keys renamed: `{old: new}`. */
  rename?: Readonly<Record<string, string>>;
  /** Each top-level document, parsed, goes here instead of becoming a record (`json_object_to_linesplit_processor`). */
  document?(doc: Record<string, unknown>): void;
  /** EventBridge events (`{"detail-type":...,"detail":{...}}`) give their `detail` (GuardDuty through Firehose). */
  eventBridgeDetail?: boolean;
}

/** The CloudWatch Logs envelope before `"logEvents":[` (or any split array), as an object (cached per envelope). */
class EnvelopeCache {
  private last: Buffer | undefined;
  private parsed: Record<string, unknown> = {};

  get(envelope: Buffer | undefined, splitKey: string): Record<string, unknown> {
    if (!envelope) return {};
    if (envelope === this.last) return this.parsed;
    this.last = envelope;
    const text = decodeText(envelope);
    const at = text.lastIndexOf(JSON.stringify(splitKey));
    const head = (at === -1 ? text : text.slice(0, at)).trimEnd().replace(/,$/, '');
    try {
      const value = JSON.parse(`${head}}`) as unknown;
      this.parsed = value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
    } catch {
      this.parsed = {};
    }
    return this.parsed;
  }
}

function isObjectText(text: string): boolean {
  return text.charCodeAt(0) === 123;
}

/** JSON object text, compacted to one line if it was pretty-printed, with the pulling id appended. */
export function objectEvent(text: string, multiline: boolean, suffix: string): string {
  const compact = multiline ? JSON.stringify(JSON.parse(text)) : text;
  return appendFields(compact, suffix);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The JSON engine: NDJSON, one document, concatenated documents (`{...}{...}`, Firehose), top-level
 * arrays, split arrays, CloudWatch Logs subscription documents. Records the vendor wrote as compact JSON
 * are forwarded byte for byte (no parse) unless an option needs their fields.
 */
export class JsonDecoder implements ObjectDecoder, JsonUnitSink {
  private readonly scanner: JsonValueScanner;
  private readonly envelopes = new EnvelopeCache();
  private readonly fields: VpcRecordBuilder | undefined;
  private readonly reshapes: boolean;

  constructor(
    private readonly o: JsonEngineOptions,
    private readonly ctx: ProcessorContext,
  ) {
    const keys = o.cloudwatch && !o.splitKeys.includes('logEvents') ? [...o.splitKeys, 'logEvents'] : o.splitKeys;
    this.scanner = new JsonValueScanner(keys, this);
    this.fields = o.cloudwatch === 'fields' ? new VpcRecordBuilder(o.fieldNames ?? VPC_V2_FIELDS) : undefined;
    this.reshapes = Boolean(o.include || o.rename || o.eventBridgeDetail);
  }

  push(chunk: Buffer): void {
    this.scanner.push(chunk);
  }

  end(): void {
    this.scanner.end();
  }

  unit(bytes: Buffer, start: number, end: number, kind: UnitKind, multiline: boolean, splitKey: string | undefined, envelope: Buffer | undefined): void {
    if (this.ctx.raw && this.forwards(kind, splitKey) && !multiline && bytes[start] === 123 && isUtf8(bytes.subarray(start, end))) {
      // The record goes on as written: no string is made of it here (a processing thread).
      this.ctx.raw(bytes, start, end);
      return;
    }
    const text = decodeText(bytes, start, end);
    if (splitKey === 'logEvents' && this.o.cloudwatch) {
      const head = this.envelopes.get(envelope, splitKey);
      if (head['messageType'] === 'CONTROL_MESSAGE') return;
      this.logEvent(text, head);
      return;
    }
    if (this.o.logEventsOnly && kind === 'top') return; // a document without logEvents: nothing to send
    if (this.o.document && kind !== 'element') {
      const doc = JSON.parse(text) as unknown;
      if (isRecord(doc)) this.o.document(doc);
      return;
    }
    if (this.o.extract !== undefined && kind !== 'element') {
      this.extracted(text);
      return;
    }
    if (!this.reshapes || !isObjectText(text)) {
      this.ctx.out(isObjectText(text) ? objectEvent(text, multiline, this.ctx.suffix) : text);
      return;
    }
    this.record(JSON.parse(text) as Record<string, unknown>, splitKey && this.o.include ? this.envelopes.get(envelope, splitKey) : undefined);
  }

  /** True when a unit that is a JSON object is forwarded as written (below: `objectEvent` of its text). */
  private forwards(kind: UnitKind, splitKey: string | undefined): boolean {
    const o = this.o;
    return !this.reshapes && !(splitKey === 'logEvents' && o.cloudwatch) && !(o.logEventsOnly && kind === 'top') && !(o.document && kind !== 'element') && !(o.extract !== undefined && kind !== 'element');
  }

  /** `extract`: the value under the key; a document without it is forwarded whole (nothing is dropped). */
  private extracted(text: string): void {
    const doc = JSON.parse(text) as unknown;
    const value = isRecord(doc) && this.o.extract! in doc ? doc[this.o.extract!] : doc;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isRecord(item)) this.record(item, undefined);
      else this.ctx.out(typeof item === 'string' ? item : JSON.stringify(item));
    }
  }

  private record(value: Record<string, unknown>, head: Record<string, unknown> | undefined): void {
    let record = value;
    if (this.o.eventBridgeDetail && typeof record['detail-type'] === 'string' && isRecord(record['detail'])) record = record['detail'];
    if (this.o.rename) {
      const renamed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(record)) renamed[this.o.rename[k] ?? k] = v;
      record = renamed;
    }
    if (this.o.include && head) {
      record = { ...record };
      for (const [from, to] of Object.entries(this.o.include)) if (head[from] !== undefined) record[to] = head[from];
    }
    this.ctx.out(record);
  }

  private logEvent(text: string, head: Record<string, unknown>): void {
    const event = JSON.parse(text) as Record<string, unknown>;
    const message = typeof event['message'] === 'string' ? event['message'] : undefined;
    if (this.fields) {
      if (message !== undefined) this.ctx.out(this.fields.build(message.trim(), this.ctx.suffix));
      return;
    }
    if (this.o.cloudwatch === 'json' && message !== undefined && message.charCodeAt(0) === 123) {
      // CloudTrail (or any JSON log) delivered through CloudWatch Logs: the message is the record.
      this.ctx.out(objectEvent(message, message.includes('\n'), this.ctx.suffix));
      return;
    }
    // The log event, with the log group and stream it came from.
    const out: Record<string, unknown> = { ...event };
    for (const key of ['owner', 'logGroup', 'logStream'] as const) if (head[key] !== undefined) out[key] = head[key];
    this.ctx.out(out);
  }
}
