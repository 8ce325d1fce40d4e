import { buildElbRecord, splitLogLine } from '../formats/elb.js';
import type { ObjectDecoder, OutEvent } from '../formats/decoders.js';
import { LineSplitter, SeparatorSplitter } from '../formats/lines.js';
import { fieldPrefixes, jsonString } from '../formats/serialize.js';
import { isVpcHeader, VpcRecordBuilder } from '../formats/vpc-flow.js';
import type { ProcessorContext } from './types.js';

/** Lines (LF or CRLF, or any `separator`) in, one call per non-empty line out. */
export function lineDecoder(onLine: (line: string) => void, separator = '\n'): ObjectDecoder {
  return separator === '\n' ? new LineSplitter(onLine) : new SeparatorSplitter(separator, onLine);
}

/** Rows split on a separator into named fields, as JSON text; values beyond the names become `field_<n>`. */
class RowBuilder {
  private prefixes: string[] = [];
  constructor(
    private readonly separator: string,
    names: readonly string[],
  ) {
    this.setFields(names);
  }
  setFields(names: readonly string[]): void {
    this.prefixes = fieldPrefixes(names);
  }
  build(row: string, suffix: string): string {
    const values = row.split(this.separator);
    let out = '{';
    for (let i = 0; i < values.length; i++) out += (i < this.prefixes.length ? this.prefixes[i]! : `${i === 0 ? '' : ','}"field_${i + 1}":`) + jsonString(values[i]!);
    return values.length === 0 ? `{${suffix}}` : `${out},${suffix}}`;
  }
}

export interface TextFileOptions {
  line_separator?: string;
  header?: boolean;
  header_field_separator?: string;
  field_names?: string[];
  field_separator?: string;
  use_json?: boolean;
}

/**
 * `text_file_processor`: rows of a text file. With `use_json`, each row becomes an object named by the
 * header line (`header`, split on `header_field_separator`) or by `field_names`; else the row is sent as
 * text. A space separator treats runs of spaces as one (VPC flow logs). With `header` and `field_names`
 * both set, a first line that looks like a record (starts with a digit) is data, named by `field_names`.
 */
export function textFileDecoder(o: TextFileOptions, ctx: ProcessorContext): ObjectDecoder {
  const separator = o.field_separator ?? ',';
  const headerSeparator = o.header_field_separator ?? separator;
  const names = o.field_names ?? [];
  const spaces = separator === ' ';
  const builder = spaces ? new VpcRecordBuilder(names) : new RowBuilder(separator, names);
  let first = o.header === true;
  return lineDecoder((line) => {
    if (first) {
      first = false;
      if (o.field_names === undefined || isVpcHeader(line)) {
        builder.setFields(line.trim().split(headerSeparator === ' ' ? /\s+/ : headerSeparator));
        return;
      }
    }
    ctx.out(o.use_json ? builder.build(line, ctx.suffix) : line);
  }, o.line_separator);
}

/** `line_split_processor`: one event per line; `json: true` reads each line as a JSON document. */
export function lineSplitDecoder(o: { json?: boolean }, ctx: ProcessorContext): ObjectDecoder {
  return lineDecoder((line) => ctx.out(o.json ? (JSON.parse(line) as OutEvent) : line));
}

/** `json_line_arrays_processor`: each line is a JSON array; each element is an event. */
export function jsonLineArraysDecoder(ctx: ProcessorContext): ObjectDecoder {
  return lineDecoder((line) => {
    const value = JSON.parse(line) as unknown;
    for (const item of Array.isArray(value) ? value : [value]) ctx.out(typeof item === 'object' && item !== null ? (item as OutEvent) : String(item));
  });
}

/** `aws_access_logs_processor`: ALB, ALB connection, Classic ELB, NLB (TLS) and S3 server access log lines. */
export function accessLogsDecoder(ctx: ProcessorContext): ObjectDecoder {
  return lineDecoder((line) => ctx.out(buildElbRecord(line, ctx.suffix)));
}

/**
 * `bluecoat_processor`: W3C extended log files (Blue Coat ProxySG ELFF, CloudFront standard logs): a
 * `#Fields:` directive names the fields, other `#` directives are skipped, values are split on
 * `field_separator` (space: quoted values keep their spaces).
 */
export function w3cDecoder(o: { field_separator?: string }, ctx: ProcessorContext): ObjectDecoder {
  const separator = o.field_separator ?? ' ';
  let prefixes: string[] = [];
  return lineDecoder((line) => {
    if (line.charCodeAt(0) === 35 /* # */) {
      if (line.startsWith('#Fields:')) prefixes = fieldPrefixes(line.slice(8).trim().split(/\s+/));
      return;
    }
    const values = separator === ' ' ? splitLogLine(line) : line.split(separator);
    let out = '{';
    for (let i = 0; i < values.length; i++) out += (i < prefixes.length ? prefixes[i]! : `${i === 0 ? '' : ','}"field_${i + 1}":`) + jsonString(values[i]!);
    ctx.out(values.length === 0 ? `{${ctx.suffix}}` : `${out},${ctx.suffix}}`);
  });
}
