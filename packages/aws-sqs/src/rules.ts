import { configErrors } from './config-errors.js';

/**
 * Devo's declarative parts of a service, compiled once at start-up: filter rules (lists of lists: the
 * outer list ORs, the inner list ANDs), fields derived from the object key, and the routing template.
 */

export const RULE_TYPES = ['match', 'no_match', 'regex', 'not_regex', 'equals', 'not_equals', 'contains', 'not_contains', 'starts_with', 'ends_with'] as const;
type RuleType = (typeof RULE_TYPES)[number];
export const RULE_SOURCES = ['filename', 'file', 'record', 'line'] as const;
export type RuleSource = (typeof RULE_SOURCES)[number];

export interface FilterRule {
  source: RuleSource;
  /** The file field (`source: file`) or mapped record field (`source: record`) the rule reads. */
  key: string | undefined;
  test(value: string | undefined): boolean;
}
/** OR of ANDs. */
export type FilterRules = FilterRule[][];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compileRule(raw: unknown, defaultSource: RuleSource, path: string): FilterRule {
  if (!isObject(raw)) throw configErrors().rule({ path, why: 'a rule is a mapping such as {type: match, pattern: CloudTrail-Digest}' });
  const type = (raw['type'] ?? 'match') as RuleType;
  if (!RULE_TYPES.includes(type)) throw configErrors().rule({ path: `${path}.type`, why: `unknown rule type <${String(raw['type'])}>; known: ${RULE_TYPES.join(', ')}` });
  const source = (raw['source'] ?? defaultSource) as RuleSource;
  if (!RULE_SOURCES.includes(source)) throw configErrors().rule({ path: `${path}.source`, why: `unknown source <${String(raw['source'])}>; known: ${RULE_SOURCES.join(', ')}` });
  const key = raw['key'] === undefined ? undefined : String(raw['key']);
  if ((source === 'record' || source === 'file') && !key) throw configErrors().rule({ path: `${path}.key`, why: `a rule on source ${source} names the field in key` });
  const pattern = raw['pattern'] ?? (type.includes('regex') ? raw['value'] : undefined);
  const value = raw['value'] === undefined ? undefined : String(raw['value']);
  if (pattern === undefined && value === undefined) throw configErrors().rule({ path, why: 'a rule needs a pattern (regular expression) or a value' });
  let test: (v: string) => boolean;
  if (pattern !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(String(pattern));
    } catch (error) {
      throw configErrors().rule({ path: `${path}.pattern`, why: `<${String(pattern)}> is not a regular expression: ${(error as Error).message}` });
    }
    test = (v) => re.test(v);
  } else {
    const expected = value!;
    test = {
      contains: (v: string) => v.includes(expected),
      not_contains: (v: string) => v.includes(expected),
      starts_with: (v: string) => v.startsWith(expected),
      ends_with: (v: string) => v.endsWith(expected),
    }[type as 'contains'] ?? ((v: string) => v === expected);
  }
  const negated = type === 'no_match' || type === 'not_regex' || type === 'not_equals' || type === 'not_contains';
  // A value that is absent never matches (and so always "does not match").
  return { source, key, test: (v) => (v === undefined ? negated : negated !== test(v)) };
}

export function compileRules(raw: unknown, defaultSource: RuleSource, path: string): FilterRules {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw configErrors().rule({ path, why: 'filter rules are a list of lists of rules' });
  return raw.map((group, i) => {
    // A rule alone where a list was expected is read as a list of one.
    const list = Array.isArray(group) ? group : [group];
    return list.map((rule, j) => compileRule(rule, defaultSource, `${path}[${i}]${Array.isArray(group) ? `[${j}]` : ''}`));
  });
}

/** True when any inner list has all its rules true. */
export function anyGroupMatches(rules: FilterRules, value: (rule: FilterRule) => string | undefined): boolean {
  for (const group of rules) {
    let all = group.length > 0;
    for (const rule of group) {
      if (!rule.test(value(rule))) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

/** `file_field_definitions`: `{name: [operation, ...]}`, each operation applied to the previous result (first: the key). */
export type FieldOperation = (value: string) => string | undefined;
export type FileFieldDefinitions = Record<string, FieldOperation[]>;
export const FIELD_OPERATORS = ['split', 'replace', 'regex', 'lowercase'] as const;

function compileOperation(raw: unknown, path: string): FieldOperation {
  if (!isObject(raw)) throw configErrors().fileField({ path, why: 'an operation is a mapping such as {operator: split, on: "/", element: 0}' });
  switch (raw['operator']) {
    case 'split': {
      const on = raw['on'];
      const element = Number(raw['element'] ?? 0);
      if (typeof on !== 'string' || on === '' || !Number.isInteger(element)) throw configErrors().fileField({ path, why: 'split takes on (a non-empty string) and element (an integer; negative counts from the end)' });
      return (v) => {
        const parts = v.split(on);
        return parts[element < 0 ? parts.length + element : element];
      };
    }
    case 'replace': {
      const from = raw['to_replace'];
      if (typeof from !== 'string' || from === '') throw configErrors().fileField({ path, why: 'replace takes to_replace (a non-empty string) and replace_with' });
      const to = String(raw['replace_with'] ?? '');
      return (v) => v.split(from).join(to);
    }
    case 'regex': {
      let re: RegExp;
      try {
        re = new RegExp(String(raw['pattern']));
      } catch (error) {
        throw configErrors().fileField({ path: `${path}.pattern`, why: (error as Error).message });
      }
      const group = raw['group'] ?? 1;
      return (v) => {
        const m = re.exec(v);
        return m ? (typeof group === 'string' ? m.groups?.[group] : m[Number(group)]) : undefined;
      };
    }
    case 'lowercase':
      return (v) => v.toLowerCase();
    default:
      throw configErrors().fileField({ path: `${path}.operator`, why: `unknown operator <${String(raw['operator'])}>; known: ${FIELD_OPERATORS.join(', ')}` });
  }
}

export function compileFileFields(raw: unknown, path: string): FileFieldDefinitions {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw configErrors().fileField({ path, why: 'file_field_definitions maps a field name to a list of operations' });
  const out: FileFieldDefinitions = {};
  for (const [name, ops] of Object.entries(raw)) {
    const list = Array.isArray(ops) ? ops : [ops];
    out[name] = list.map((op, i) => compileOperation(op, `${path}.${name}[${i}]`));
  }
  return out;
}

/** The object's fields from its key; a field whose operations found nothing is absent. */
export function fileFieldsOf(key: string, definitions: FileFieldDefinitions): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, ops] of Object.entries(definitions)) {
    let value: string | undefined = key;
    for (const op of ops) {
      if (value === undefined) break;
      value = op(value);
    }
    if (value !== undefined && value !== '') fields[name] = value;
  }
  return fields;
}

/** `record_field_mapping`: `{name: {keys: [k1, k2]}}` reads `record[k1][k2]`. */
export type RecordFieldMapping = Record<string, readonly string[]>;

export function compileRecordMapping(raw: unknown, path: string): RecordFieldMapping {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw configErrors().recordMapping({ path, why: 'record_field_mapping maps a field name to {keys: [...]}' });
  const out: RecordFieldMapping = {};
  for (const [name, spec] of Object.entries(raw)) {
    const keys = isObject(spec) ? spec['keys'] : undefined;
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string' || typeof k === 'number')) {
      throw configErrors().recordMapping({ path: `${path}.${name}.keys`, why: 'keys is a non-empty list: the path of the field in the record' });
    }
    out[name] = keys.map(String);
  }
  return out;
}

export function recordField(record: unknown, keys: readonly string[]): string | undefined {
  let value = record;
  for (const k of keys) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[k];
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A tag level may hold letters, digits, `_` and `-`; anything else from a key or record becomes `_`. */
function tagSafe(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * `routing_template`: the tag, with `[file-<field>]` (from `file_field_definitions`) and `[record-<field>]`
 * (from `record_field_mapping`) placeholders. A field without a value for an object or record fills
 * `unknown`.
 */
export class RoutingTemplate {
  readonly fileFields: string[] = [];
  readonly recordFields: string[] = [];
  private readonly parts: (string | { source: 'file' | 'record'; name: string })[] = [];

  constructor(
    readonly text: string,
    path: string,
    known: { file: readonly string[]; record: readonly string[] },
  ) {
    const re = /\[(file|record)-([A-Za-z0-9_]+)\]/g;
    let last = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const source = m[1] as 'file' | 'record';
      const name = m[2]!;
      if (!(source === 'file' ? known.file : known.record).includes(name)) {
        throw configErrors().template({ path, why: `<${m[0]}> names no ${source === 'file' ? 'file_field_definitions' : 'record_field_mapping'} entry (known: ${(source === 'file' ? known.file : known.record).join(', ') || 'none'})` });
      }
      this.parts.push(text.slice(last, m.index), { source, name });
      (source === 'file' ? this.fileFields : this.recordFields).push(name);
      last = m.index + m[0].length;
    }
    this.parts.push(text.slice(last));
    if (/[[\]]/.test(this.parts.filter((p) => typeof p === 'string').join(''))) throw configErrors().template({ path, why: `<${text}> has a placeholder other than [file-<field>] or [record-<field>]` });
  }

  get perRecord(): boolean {
    return this.recordFields.length > 0;
  }

  render(file: Record<string, string>, record?: (name: string) => string | undefined): string {
    let out = '';
    for (const p of this.parts) {
      if (typeof p === 'string') out += p;
      else out += tagSafe((p.source === 'file' ? file[p.name] : record?.(p.name)) ?? 'unknown');
    }
    return out;
  }
}
