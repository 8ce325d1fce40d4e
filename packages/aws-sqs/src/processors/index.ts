import type { ObjectDecoder } from '../formats/decoders.js';
import { SniffingDecoder } from '../formats/sniff.js';
import { JsonDecoder, type CloudWatchMessage } from './json.js';
import { accessLogsDecoder, jsonLineArraysDecoder, lineDecoder, lineSplitDecoder, textFileDecoder, w3cDecoder, type TextFileOptions } from './text.js';
import type { OptionType, ProcessorContext, ProcessorDefinition } from './types.js';

export type { ProcessorContext, ProcessorDefinition } from './types.js';

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const map = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : undefined);

/** `key`: records are the elements of this array of each document (no key: each document is a record). */
function keyed(config: Record<string, unknown>): string[] {
  const key = str(config['key']);
  return key ? [key] : [];
}

/** `cloudwatch_message` and `eventbridge_detail` are ours: CloudWatch Logs and EventBridge envelopes delivered by Firehose. */
const JSON_KEY_OPTIONS: Record<string, OptionType> = { key: 'string', cloudwatch_message: 'string', eventbridge_detail: 'boolean' };

function stream(summary: string, options: Record<string, OptionType>, create: (config: Record<string, unknown>, ctx: ProcessorContext) => ObjectDecoder, forwardsJson?: (config: Record<string, unknown>) => boolean): ProcessorDefinition {
  return { input: 'stream', summary, options, create, ...(forwardsJson ? { forwardsJson } : {}) };
}

/** The JSON engine forwards object records as written unless an option reshapes them. */
const unshaped = (c: Record<string, unknown>) => c['include'] === undefined && c['rename'] === undefined && c['eventbridge_detail'] !== true;

function cloudwatch(config: Record<string, unknown>): CloudWatchMessage | undefined {
  return str(config['cloudwatch_message']) as CloudWatchMessage | undefined;
}

/**
 * The processors under Devo's names (`file_format.type`), plus `cloudwatch_logs_processor` (ours).
 * Options not listed for a processor are a config error (InitVariablesError 10).
 */
export const PROCESSORS: Record<string, ProcessorDefinition> = {
  split_or_unseparated_processor: stream(
    'JSON documents, newline-separated or concatenated (detected); arrays give their elements',
    JSON_KEY_OPTIONS,
    (c, ctx) => new JsonDecoder({ splitKeys: keyed(c), cloudwatch: cloudwatch(c), eventBridgeDetail: c['eventbridge_detail'] === true }, ctx),
    unshaped,
  ),
  unseparated_json_processor: stream(
    'concatenated JSON documents (`{...}{...}`); `key`: records are that array\'s elements; `include`: envelope keys copied in (`{envelope: record}`); `rename`: record keys renamed',
    { ...JSON_KEY_OPTIONS, include: 'object', rename: 'object' },
    (c, ctx) => new JsonDecoder({ splitKeys: keyed(c), cloudwatch: cloudwatch(c), eventBridgeDetail: c['eventbridge_detail'] === true, ...(map(c['include']) ? { include: map(c['include'])! } : {}), ...(map(c['rename']) ? { rename: map(c['rename'])! } : {}) }, ctx),
    unshaped,
  ),
  single_json_object_processor: stream('one JSON document; `key`: records are that array\'s elements', { key: 'string' }, (c, ctx) => new JsonDecoder({ splitKeys: keyed(c) }, ctx), unshaped),
  separated_json_processor: stream('JSON documents separated by `separator` (default a newline)', { separator: 'string' }, (c, ctx) => {
    const separator = str(c['separator']) ?? '\n';
    if (separator === '\n') return new JsonDecoder({ splitKeys: [] }, ctx);
    return lineDecoder((text) => ctx.out(JSON.parse(text) as Record<string, unknown>), separator);
  }),
  json_object_to_linesplit_processor: stream('JSON documents whose `key` (or each of `keys`) holds text lines: one event per line', { key: 'string', keys: 'string[]' }, (c, ctx) => {
    const keys = (c['keys'] as string[] | undefined) ?? [str(c['key']) ?? 'message'];
    const document = (doc: Record<string, unknown>) => {
      for (const key of keys) {
        const value = doc[key];
        const lines = typeof value === 'string' ? value.split(/\r?\n/) : Array.isArray(value) ? value.map(String) : [];
        for (const line of lines) if (line.length > 0) ctx.out(line);
      }
    };
    return new JsonDecoder({ splitKeys: [], document }, ctx);
  }),
  unseparated_json_processor_extract_key: stream('concatenated JSON documents; the record is the value of `extraction_key` (an array: each element)', { extraction_key: 'string' }, (c, ctx) =>
    new JsonDecoder({ splitKeys: [], extract: str(c['extraction_key']) ?? '' }, ctx),
  ),
  json_array_processor: stream('a JSON array (or several): one event per element', {}, (_c, ctx) => new JsonDecoder({ splitKeys: [] }, ctx), unshaped),
  json_line_arrays_processor: stream('one JSON array per line: one event per element', {}, (_c, ctx) => jsonLineArraysDecoder(ctx)),
  line_split_processor: stream('one event per line; `json: true` reads each line as JSON', { json: 'boolean' }, (c, ctx) => lineSplitDecoder({ json: c['json'] === true }, ctx)),
  text_file_processor: stream(
    'rows of a text file; `use_json` names their fields from the `header` line or `field_names`; `field_separator`, `header_field_separator`, `line_separator`',
    { line_separator: 'string', header: 'boolean', header_field_separator: 'string', field_names: 'string[]', field_separator: 'string', use_json: 'boolean', cloudwatch_envelopes: 'boolean' },
    (c, ctx) => {
      const text = () => textFileDecoder(c as TextFileOptions, ctx);
      if (c['cloudwatch_envelopes'] !== true) return text();
      // The same rows sent to CloudWatch Logs and delivered by Firehose: `{"logEvents":[{"message":"<row>"}]}`.
      const names = c['field_names'] as string[] | undefined;
      return new SniffingDecoder((b) => (b === 123 ? new JsonDecoder({ splitKeys: [], cloudwatch: 'fields', logEventsOnly: true, ...(names ? { fieldNames: names } : {}) }, ctx) : text()));
    },
  ),
  aws_access_logs_processor: stream('ALB (incl. connection logs), Classic ELB, NLB (TLS) and S3 server access log lines: one named object per line', {}, (_c, ctx) => accessLogsDecoder(ctx)),
  bluecoat_processor: stream('W3C extended log files (`#Fields:` names the fields; Blue Coat ELFF, CloudFront); `field_separator` (default space)', { field_separator: 'string' }, (c, ctx) =>
    w3cDecoder({ ...(str(c['field_separator']) ? { field_separator: str(c['field_separator'])! } : {}) }, ctx),
  ),
  jamf_processor: stream('Jamf Protect / Jamf Pro JSON events (newline-separated or concatenated); `key`: records are that array\'s elements', { key: 'string' }, (c, ctx) => new JsonDecoder({ splitKeys: keyed(c) }, ctx), unshaped),
  guardduty_processor: stream('GuardDuty findings: exported JSON Lines, or EventBridge events through Firehose (the `detail` is the finding)', {}, (_c, ctx) =>
    new JsonDecoder({ splitKeys: [], eventBridgeDetail: true }, ctx),
  ),
  cloudwatch_logs_processor: stream(
    'CloudWatch Logs subscription documents (Firehose): one event per `logEvents` element; `cloudwatch_message`: `raw` (default), `json` or `fields` (with `field_names`)',
    { cloudwatch_message: 'string', field_names: 'string[]' },
    (c, ctx) => new JsonDecoder({ splitKeys: [], cloudwatch: cloudwatch(c) ?? 'raw', ...(c['field_names'] ? { fieldNames: c['field_names'] as string[] } : {}) }, ctx),
  ),
  parquet_processor: { input: 'random-access', summary: 'Apache Parquet objects (VPC flow logs, Security Lake): one event per row, row group by row group', options: {} },
};

export const CLOUDWATCH_MESSAGES: readonly CloudWatchMessage[] = ['json', 'raw', 'fields'];
