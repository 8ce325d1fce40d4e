import { configErrors } from './config-errors.js';
import type { OutEvent } from './formats/decoders.js';
import { PROCESSORS, CLOUDWATCH_MESSAGES, type ProcessorDefinition } from './processors/index.js';
import type { OptionType } from './processors/types.js';
import {
  anyGroupMatches,
  compileFileFields,
  compileRecordMapping,
  compileRules,
  fileFieldsOf,
  recordField,
  RoutingTemplate,
  type FileFieldDefinitions,
  type FilterRule,
  type FilterRules,
  type RecordFieldMapping,
} from './rules.js';

/** Where `send_filtered_out_to_unknown` sends what a filter drops, and where unrouted objects go. */
export const UNKNOWN_TAG = 'my.app.sqs.unknown';

/** One pipeline in Devo's keys: what an operator writes under a service, and what the catalogue declares. */
export interface PipelineSpec {
  file_format: { type: string; config?: Record<string, unknown> };
  /** The tag; `[file-<field>]`, `[record-<field>]`, `<SQS_REGION>` and `<SQS_ACCID>` are filled in. */
  routing_template: string;
  file_field_definitions?: Record<string, unknown[]>;
  filename_filter_rules?: unknown[];
  line_filter_rules?: unknown[];
  record_field_mapping?: Record<string, { keys: string[] }>;
  encoding?: string;
  send_filtered_out_to_unknown?: boolean;
}

/** A queue that carries several log types: the first route whose `key_pattern` matches the object key reads it. */
export interface RouteSpec extends Partial<PipelineSpec> {
  name: string;
  key_pattern: string;
}

/** A catalogue entry: Devo's service, declared once as data. */
export interface ServiceDeclaration extends PipelineSpec {
  /** What the objects are (README catalogue). */
  formats: string;
  /** Per-log-type routes, tried before the service's own pipeline. */
  routes?: RouteSpec[];
}

/** Devo's keys a service block may override (`custom_service` gives them all). */
export const PIPELINE_KEYS = [
  'file_format',
  'routing_template',
  'file_field_definitions',
  'filename_filter_rules',
  'line_filter_rules',
  'record_field_mapping',
  'encoding',
  'send_filtered_out_to_unknown',
] as const;

const ENCODINGS = ['gzip', 'none', 'utf-8', 'utf8', 'latin-1', 'latin1'];

export interface Pipeline {
  /** `service`, or the route's name. */
  name: string;
  processorName: string;
  processor: ProcessorDefinition;
  config: Record<string, unknown>;
  template: RoutingTemplate;
  fileFields: FileFieldDefinitions;
  filenameRules: FilterRules;
  lineRules: FilterRules;
  mapping: RecordFieldMapping;
  forceGunzip: boolean;
  toUnknown: boolean;
  /**
   * Decoded in a processing thread (when there are any): the processor forwards JSON records as written and
   * the record stage looks at none, so a thread hands over bytes. Formats whose processor builds each record
   * (text rows, access logs) cost more to hand over than to decode: they stay in the main thread.
   */
  threaded: boolean;
}

/** What happens to one object: which pipeline reads it, its file fields, and whether a filename rule filtered it out. */
export interface ObjectPlan {
  pipeline: Pipeline;
  fields: Record<string, string>;
  /** A filename rule matched: the object is skipped (or, with `send_filtered_out_to_unknown`, sent to UNKNOWN_TAG). */
  filtered: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeOk(value: unknown, type: OptionType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value);
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'object':
      return isObject(value);
  }
}

function compileProcessor(format: unknown, path: string): { name: string; def: ProcessorDefinition; config: Record<string, unknown> } {
  const known = Object.keys(PROCESSORS);
  const name = isObject(format) ? format['type'] : format;
  const def = typeof name === 'string' ? PROCESSORS[name] : undefined;
  if (!def) throw configErrors().processor({ value: String(name), known: known.join(', '), path: `${path}.type` });
  const config = isObject(format) && isObject(format['config']) ? format['config'] : {};
  for (const [key, value] of Object.entries(config)) {
    const type = def.options[key];
    if (!type) {
      const allowed = Object.keys(def.options);
      throw configErrors().processorOption({ path: `${path}.config.${key}`, why: `${name} has no option <${key}>${allowed.length ? `; its options: ${allowed.join(', ')}` : ' (it takes no options)'}` });
    }
    if (!typeOk(value, type)) throw configErrors().processorOption({ path: `${path}.config.${key}`, why: `${name} option <${key}> must be a ${type}` });
  }
  const message = config['cloudwatch_message'];
  if (message !== undefined && !CLOUDWATCH_MESSAGES.includes(message as never)) {
    throw configErrors().processorOption({ path: `${path}.config.cloudwatch_message`, why: `cloudwatch_message must be one of ${CLOUDWATCH_MESSAGES.join(', ')}` });
  }
  return { name: name as string, def, config };
}

function compilePipeline(name: string, spec: PipelineSpec, queue: { region: string; account: string }, path: string, vpcFields?: readonly string[]): Pipeline {
  const processor = compileProcessor(spec.file_format, `${path}.file_format`);
  // `vpc_fields` (the key we shipped first) names the fields of header-less flow records.
  if (vpcFields && processor.name === 'text_file_processor') processor.config = { ...processor.config, field_names: [...vpcFields] };
  const fileFields = compileFileFields(spec.file_field_definitions, `${path}.file_field_definitions`);
  const mapping = compileRecordMapping(spec.record_field_mapping, `${path}.record_field_mapping`);
  if (typeof spec.routing_template !== 'string' || spec.routing_template.trim() === '') throw configErrors().template({ path: `${path}.routing_template`, why: 'the template is the tag: a non-empty string' });
  const text = spec.routing_template.replaceAll('<SQS_REGION>', queue.region).replaceAll('<SQS_ACCID>', queue.account);
  const template = new RoutingTemplate(text, `${path}.routing_template`, { file: Object.keys(fileFields), record: Object.keys(mapping) });
  const lineRules = compileRules(spec.line_filter_rules, 'record', `${path}.line_filter_rules`);
  const def = processor.def;
  const threaded = def.input === 'stream' && def.forwardsJson?.(processor.config) === true && lineRules.length === 0 && !template.perRecord;
  const encoding = spec.encoding;
  if (encoding !== undefined && !ENCODINGS.includes(String(encoding).toLowerCase())) throw configErrors().encoding({ value: String(encoding), path: `${path}.encoding` });
  return {
    name,
    processorName: processor.name,
    processor: processor.def,
    config: processor.config,
    template,
    fileFields,
    filenameRules: compileRules(spec.filename_filter_rules, 'filename', `${path}.filename_filter_rules`),
    lineRules,
    mapping,
    forceGunzip: String(encoding ?? '').toLowerCase() === 'gzip',
    toUnknown: spec.send_filtered_out_to_unknown === true,
    threaded,
  };
}

/** The operator's Devo keys over the declaration's: a `file_format` of the same type merges its `config`. */
function overlay(base: PipelineSpec, over: Record<string, unknown>): PipelineSpec {
  const out: Record<string, unknown> = { ...base };
  for (const key of PIPELINE_KEYS) {
    if (over[key] === undefined || over[key] === null) continue;
    if (key === 'file_format' && isObject(over[key])) {
      const given = over[key] as { type?: string; config?: Record<string, unknown> };
      const type = given.type ?? base.file_format.type;
      out[key] = { type, config: type === base.file_format.type ? { ...base.file_format.config, ...given.config } : { ...given.config } };
    } else {
      out[key] = over[key];
    }
  }
  return out as unknown as PipelineSpec;
}

/** What a service's pipelines are compiled from: plain data, so a processing thread compiles the same ones. */
export interface PipelineSource {
  declaration: ServiceDeclaration;
  raw: Record<string, unknown>;
  queue: { region: string; account: string };
  path: string;
  vpcFields?: readonly string[] | undefined;
}

/** A service's compiled pipelines: its routes (by object key) and its own. */
export class ServicePipeline {
  constructor(
    readonly routes: readonly { pattern: RegExp; pipeline: Pipeline }[],
    readonly main: Pipeline,
    readonly source: PipelineSource,
  ) {}

  /**
   * Compiles a declaration with the operator's overrides (the service block). An operator's `file_format`
   * or `routing_template` replaces the routes: the service then reads every object one way.
   */
  static resolve(declaration: ServiceDeclaration, raw: Record<string, unknown>, queue: { region: string; account: string }, path: string, vpcFields?: readonly string[]): ServicePipeline {
    // `override_devo_tag` (the SDK's key on every service) is the routing template of every route.
    const tagOverride = raw['override_devo_tag'] ?? raw['override_tag'];
    const options = tagOverride ? { ...raw, routing_template: raw['routing_template'] ?? tagOverride } : raw;
    const main = compilePipeline('service', overlay(declaration, options), queue, path, vpcFields);
    const own = raw['file_format'] !== undefined || raw['routing_template'] !== undefined;
    const routes = own
      ? []
      : (declaration.routes ?? []).map((route) => {
          const { name, key_pattern, ...parts } = route;
          // Route parts over the declaration, then the operator's keys (filters, encoding...) over both.
          const spec = overlay(overlay(declaration, parts as Record<string, unknown>), options);
          return { pattern: new RegExp(key_pattern), pipeline: compilePipeline(name, spec, queue, path, vpcFields) };
        });
    return new ServicePipeline(routes, main, { declaration, raw, queue, path, vpcFields });
  }

  plan(key: string): ObjectPlan {
    const pipeline = this.routes.find((r) => r.pattern.test(key))?.pipeline ?? this.main;
    const fields = fileFieldsOf(key, pipeline.fileFields);
    const filtered = anyGroupMatches(pipeline.filenameRules, (rule) => (rule.source === 'file' ? fields[rule.key!] : key));
    return { pipeline, fields, filtered };
  }
}

export interface RecordCounters {
  filtered: number;
}

function parsedRecord(event: OutEvent): unknown {
  if (typeof event !== 'string') return event;
  if (event.charCodeAt(0) !== 123) return undefined;
  try {
    return JSON.parse(event);
  } catch {
    return undefined;
  }
}

/**
 * The record stage of one object: line filters, then the tag (per object, or per record when the template
 * has `[record-...]` placeholders). Without either, events go straight through (the CloudTrail fast path).
 */
/** True when the record stage looks at no record: each goes on, untouched, to one tag. */
export function forwardsRecords(plan: ObjectPlan): boolean {
  return plan.filtered || (plan.pipeline.lineRules.length === 0 && !plan.pipeline.template.perRecord);
}

export function recordSink(plan: ObjectPlan, key: string, push: (event: OutEvent, tag: string) => void, counters: RecordCounters): (event: OutEvent) => void {
  const { pipeline, fields } = plan;
  if (plan.filtered) return (event) => push(event, UNKNOWN_TAG);
  const objectTag = pipeline.template.perRecord ? '' : pipeline.template.render(fields);
  if (forwardsRecords(plan)) return (event) => push(event, objectTag);
  return (event) => {
    let record: unknown;
    let parsed = false;
    const field = (name: string) => {
      if (!parsed) {
        parsed = true;
        record = parsedRecord(event);
      }
      return recordField(record, pipeline.mapping[name] ?? [name]);
    };
    const value = (rule: FilterRule) => {
      switch (rule.source) {
        case 'line':
          return typeof event === 'string' ? event : JSON.stringify(event);
        case 'filename':
          return key;
        case 'file':
          return fields[rule.key!];
        case 'record':
          return field(rule.key!);
      }
    };
    if (pipeline.lineRules.length > 0 && anyGroupMatches(pipeline.lineRules, value)) {
      counters.filtered++;
      if (pipeline.toUnknown) push(event, UNKNOWN_TAG);
      return;
    }
    push(event, pipeline.template.perRecord ? pipeline.template.render(fields, field) : objectTag);
  };
}
