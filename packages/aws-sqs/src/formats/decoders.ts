import { decodeText } from './decode.js';
import { buildElbRecord } from './elb.js';
import { JsonValueScanner, type JsonUnitSink, type UnitKind } from './json-scanner.js';
import { LineSplitter } from './lines.js';
import { appendFields } from './serialize.js';
import { isVpcHeader, VPC_V2_FIELDS, VpcRecordBuilder } from './vpc-flow.js';

/** The object formats, one a service (README "Services"). */
export type FormatName = 'cloudtrail' | 'vpc' | 'cloudwatch_vpc' | 'elb' | 'json' | 'text';

/** An event ready for the SDK: JSON text (pulling id already appended), a plain text line, or an object. */
export type OutEvent = string | Record<string, unknown>;

export interface DecoderContext {
  /** `"@devo_pulling_id":"..."` (and environment) to append to every JSON object. */
  suffix: string;
  /** VPC field names for files without a header line (default: the version 2 format). */
  vpcFields?: readonly string[] | undefined;
  out(event: OutEvent): void;
}

/** Bytes of one decompressed object in, events out; `end` throws if the object was truncated or malformed. */
export interface ObjectDecoder {
  push(chunk: Buffer): void;
  end(): void;
}

/** The CloudWatch Logs envelope before `"logEvents":[`, as an object (cached per envelope). */
class EnvelopeCache {
  private last: Buffer | undefined;
  private parsed: Record<string, unknown> = {};

  get(envelope: Buffer | undefined): Record<string, unknown> {
    if (!envelope) return {};
    if (envelope === this.last) return this.parsed;
    this.last = envelope;
    const text = decodeText(envelope);
    const at = text.lastIndexOf('"logEvents"');
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
function objectEvent(text: string, multiline: boolean, suffix: string): string {
  const compact = multiline ? JSON.stringify(JSON.parse(text)) : text;
  return appendFields(compact, suffix);
}

/**
 * JSON formats (`cloudtrail`, `json`, and `cloudwatch_vpc`'s Firehose documents): `Records` elements,
 * CloudWatch Logs `logEvents` (CONTROL_MESSAGE documents skipped), array elements, or whole documents.
 */
class JsonDecoder implements ObjectDecoder, JsonUnitSink {
  private readonly scanner: JsonValueScanner;
  private readonly envelopes = new EnvelopeCache();
  private readonly vpc: VpcRecordBuilder;

  constructor(
    private readonly format: FormatName,
    private readonly ctx: DecoderContext,
  ) {
    this.scanner = new JsonValueScanner(format === 'cloudwatch_vpc' ? ['logEvents'] : ['Records', 'logEvents'], this);
    this.vpc = new VpcRecordBuilder(ctx.vpcFields ?? VPC_V2_FIELDS);
  }

  push(chunk: Buffer): void {
    this.scanner.push(chunk);
  }

  end(): void {
    this.scanner.end();
  }

  unit(bytes: Buffer, start: number, end: number, kind: UnitKind, multiline: boolean, splitKey: string | undefined, envelope: Buffer | undefined): void {
    const text = decodeText(bytes, start, end);
    if (splitKey === 'logEvents') {
      const head = this.envelopes.get(envelope);
      if (head['messageType'] === 'CONTROL_MESSAGE') return;
      this.logEvent(text, head);
      return;
    }
    if (this.format === 'cloudwatch_vpc' && kind === 'top') return; // a document without logEvents: nothing to send
    this.ctx.out(isObjectText(text) ? objectEvent(text, multiline, this.ctx.suffix) : text);
  }

  private logEvent(text: string, head: Record<string, unknown>): void {
    const event = JSON.parse(text) as Record<string, unknown>;
    const message = typeof event['message'] === 'string' ? event['message'] : undefined;
    if (this.format === 'cloudwatch_vpc') {
      if (message !== undefined) this.ctx.out(this.vpc.build(message.trim(), this.ctx.suffix));
      return;
    }
    if (this.format === 'cloudtrail' && message !== undefined && message.charCodeAt(0) === 123) {
      // CloudTrail delivered through CloudWatch Logs: the message is the CloudTrail record.
      this.ctx.out(objectEvent(message, message.includes('\n'), this.ctx.suffix));
      return;
    }
    // Generic JSON: the log event, with the log group and stream it came from.
    const out: Record<string, unknown> = { ...event };
    for (const key of ['owner', 'logGroup', 'logStream'] as const) if (head[key] !== undefined) out[key] = head[key];
    this.ctx.out(out);
  }
}

/** VPC flow logs as text: a header line names the fields (else `vpc_fields` / version 2), one event a record. */
class VpcTextDecoder implements ObjectDecoder {
  private readonly lines: LineSplitter;
  private readonly builder: VpcRecordBuilder;
  private first = true;

  constructor(private readonly ctx: DecoderContext) {
    this.builder = new VpcRecordBuilder(ctx.vpcFields ?? VPC_V2_FIELDS);
    this.lines = new LineSplitter((line) => this.line(line));
  }

  private line(line: string): void {
    if (this.first) {
      this.first = false;
      if (isVpcHeader(line)) {
        this.builder.setFields(line.trim().split(/\s+/));
        return;
      }
    }
    this.ctx.out(this.builder.build(line, this.ctx.suffix));
  }

  push(chunk: Buffer): void {
    this.lines.push(chunk);
  }

  end(): void {
    this.lines.end();
  }
}

class LineDecoder implements ObjectDecoder {
  private readonly lines: LineSplitter;
  constructor(toEvent: (line: string) => OutEvent, ctx: DecoderContext) {
    this.lines = new LineSplitter((line) => ctx.out(toEvent(line)));
  }
  push(chunk: Buffer): void {
    this.lines.push(chunk);
  }
  end(): void {
    this.lines.end();
  }
}

/**
 * Picks the decoder by the first non-blank byte where a format comes in two shapes: `vpc` and
 * `cloudwatch_vpc` accept both text flow logs and CloudWatch Logs documents delivered by Firehose.
 */
class SniffingDecoder implements ObjectDecoder {
  private inner: ObjectDecoder | undefined;
  private seen = 0;
  constructor(private readonly choose: (firstByte: number) => ObjectDecoder) {}
  push(chunk: Buffer): void {
    if (!this.inner) {
      let i = 0;
      for (; i < chunk.length; i++, this.seen++) {
        const b = chunk[i]!;
        const bom = this.seen < 3 && b === [0xef, 0xbb, 0xbf][this.seen];
        if (!bom && b !== 32 && b !== 10 && b !== 13 && b !== 9) break;
      }
      if (i === chunk.length) return; // only blanks (or a byte order mark) so far: nothing to decide on, nothing to send
      this.inner = this.choose(chunk[i]!);
      chunk = chunk.subarray(i);
    }
    this.inner.push(chunk);
  }
  end(): void {
    this.inner?.end();
  }
}

export function createDecoder(format: FormatName, ctx: DecoderContext): ObjectDecoder {
  switch (format) {
    case 'cloudtrail':
    case 'json':
      return new JsonDecoder(format, ctx);
    case 'vpc':
    case 'cloudwatch_vpc':
      return new SniffingDecoder((b) => (b === 123 ? new JsonDecoder('cloudwatch_vpc', ctx) : new VpcTextDecoder(ctx)));
    case 'elb':
      return new LineDecoder((line) => buildElbRecord(line, ctx.suffix), ctx);
    case 'text':
      return new LineDecoder((line) => line, ctx);
  }
}
