import { readFileSync } from 'node:fs';
import { isAbsolute, resolve, join } from 'node:path';
import type { ErrorObject } from 'ajv';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from '../errors/collector-error.js';
import { registerSecret } from '../secrets/redactor.js';
import type { CollectorDefinition, InputConfig, InputDefinition, JsonSchema } from '../runtime/definitions.js';
import type { RequestsLimit } from '../http/rate-limiter.js';
import type { ProxyConfig } from '../http/proxy.js';
import { configValidator } from './config-validator.js';
import { resolveSecretRefs } from './secret-refs.js';
import { commonServiceProperties, globalsSchema, inertSettings, outputsSchema, requestsLimitsSchema } from './sdk-schema.js';

export interface GlobalsConfig {
  debug: boolean;
  id: string;
  name: string;
  persistence: { type: 'filesystem' | 'memory' | 'redis'; config: Record<string, unknown> };
  requests_limits?: RequestsLimit[];
  log_format: 'text' | 'json';
  http_server: { enabled: boolean; address: string; port: number };
  proxy?: ProxyConfig;
  queue_max_size_in_messages: number;
  queue_max_size_in_mb: number;
  delivery_batch_max_messages: number;
  sender_concurrent_connections: number;
  sender_stats_period_in_sec: number;
  [key: string]: unknown;
}

export interface OutputConfig {
  type: string;
  config: Record<string, unknown>;
}

export interface CollectorConfig {
  globals: GlobalsConfig;
  outputs: Record<string, OutputConfig>;
  inputs: Record<string, InputConfig>;
  /** The config file read. */
  file: string;
  /** The working directory whose certs/, config/ and state/ paths are resolved against. */
  workDir: string;
  /** Non-fatal findings (unknown keys), logged at start. */
  warnings: string[];
}

/** `--config PATH`, else `config/$CONFIG_FILE`, else `config/config.yaml`, relative to the working directory. */
export function resolveConfigPath(argPath: string | undefined, workDir = process.cwd(), env = process.env): string {
  if (argPath) return isAbsolute(argPath) ? argPath : resolve(workDir, argPath);
  const name = env['CONFIG_FILE'];
  if (name) return isAbsolute(name) ? name : join(workDir, 'config', name);
  return join(workDir, 'config', 'config.yaml');
}

const SECRET_KEY = /(secret|password|passwd|token|private|api_?key|access_key)/i;

function inputSchema(input: InputDefinition): JsonSchema {
  const services: Record<string, JsonSchema> = {};
  for (const [name, service] of Object.entries(input.services)) {
    const own = (service.options ?? {}) as { properties?: Record<string, JsonSchema>; required?: string[] };
    // No `default` here: a service the operator did not list must not run (the manuals: "remove the entity
    // from the services object"). A listed but empty entry (`audit_infos:`) is turned into {} before validation.
    services[name] = {
      type: 'object',
      properties: { ...commonServiceProperties(service.requestPeriodSeconds ?? 60), ...(own.properties ?? {}) },
      ...(own.required ? { required: own.required } : {}),
    };
  }
  const extra = (input.options ?? {}) as { properties?: Record<string, JsonSchema>; required?: string[] };
  // Credentials with required keys make the block itself required: a config without it must not validate.
  const credentialsRequired = Array.isArray((input.credentials as { required?: unknown } | undefined)?.required) ? ['credentials'] : [];
  return {
    type: 'object',
    required: ['id', ...credentialsRequired, ...(extra.required ?? [])],
    properties: {
      id: { type: ['string', 'integer'] },
      enabled: { type: 'boolean', default: true },
      credentials: input.credentials ?? { type: 'object', default: {} },
      requests_limits: requestsLimitsSchema,
      requests_pools: { type: 'object', additionalProperties: requestsLimitsSchema },
      allow_insecure_http: { type: 'boolean', default: false },
      environment: { type: 'string' },
      ...(extra.properties ?? {}),
      services: { type: 'object', properties: services },
    },
  };
}

/** The whole config.yaml schema for one collector: the SDK's globals and outputs plus each input's fragments. */
export function configSchema(definition: CollectorDefinition): JsonSchema {
  const inputs: Record<string, JsonSchema> = {};
  for (const input of definition.inputs) inputs[input.name] = inputSchema(input);
  return {
    type: 'object',
    required: ['inputs'],
    properties: { globals: globalsSchema, outputs: outputsSchema, inputs: { type: 'object', properties: inputs } },
  };
}

function pathOf(instancePath: string): string {
  return instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
}

function describe(error: ErrorObject): { path: string; message: string } {
  const path = pathOf(error.instancePath);
  if (error.keyword === 'required') {
    const key = (error.params as { missingProperty: string }).missingProperty;
    return { path: path ? `${path}.${key}` : key, message: `Missing required setting <${key}>` };
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    return { path, message: `Setting <${path.split('.').at(-1)}> must be one of ${allowed}` };
  }
  return { path, message: `Setting <${path.split('.').at(-1) ?? 'config'}> ${error.message ?? 'is invalid'}` };
}

/** Keys the schema does not know: warned about, never fatal, so configs from newer versions still run. */
function findUnknownKeys(schema: JsonSchema, value: unknown, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const props = schema['properties'] as Record<string, JsonSchema> | undefined;
  const additional = schema['additionalProperties'] as JsonSchema | undefined;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    const childSchema = props?.[key] ?? (typeof additional === 'object' ? additional : undefined);
    if (!childSchema) {
      if (props) out.push(`Unknown setting <${childPath}> is ignored`);
      continue;
    }
    findUnknownKeys(childSchema, child, childPath, out);
  }
}

/** The Devo SDK settings of `inertSettings` that the config sets: one warning each, with why it does nothing. */
function findInertSettings(config: Record<string, unknown>, out: string[]): void {
  const visit = (value: unknown, parts: string[], at: string[], reason: string): void => {
    if (parts.length === 0) {
      out.push(`Setting <${at.join('.')}> is accepted for Devo SDK compatibility and has no effect: ${reason}`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    const [part, ...rest] = parts as [string, ...string[]];
    const keys = part === '*' ? Object.keys(value) : Object.hasOwn(value, part) ? [part] : [];
    for (const key of keys) visit((value as Record<string, unknown>)[key], rest, [...at, key], reason);
  };
  for (const [path, reason] of Object.entries(inertSettings)) visit(config, path.split('.'), [], reason);
}

export interface LoadConfigOptions {
  workDir?: string;
  /** Parsed config instead of a file (library use and tests). */
  raw?: unknown;
  /** The host brings outputs of its own, so the config may have none. */
  externalOutputs?: boolean;
}

/** Reads, resolves, defaults and validates a config file. Every failure is a ConfigError with its path. */
export function loadConfig(definition: CollectorDefinition, file: string, options: LoadConfigOptions = {}): CollectorConfig {
  const workDir = options.workDir ?? process.cwd();
  let raw = options.raw;
  if (raw === undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(1, `Cannot read the config file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    try {
      raw = parseYaml(text);
    } catch (error) {
      const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
      throw new ConfigError(2, `The config file ${file} is not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(2, `The config file ${file} must hold a mapping with globals, outputs and inputs`);

  const resolved = resolveSecretRefs(raw, '', workDir, (path, value) => {
    if (path.includes('credentials') || SECRET_KEY.test(path.split('.').at(-1) ?? '')) registerSecret(value);
  }) as Record<string, unknown>;
  registerCredentialSecrets(definition, resolved);

  emptyServicesToObjects(resolved);
  const schema = configSchema(definition);
  const warnings: string[] = [];
  resolveServiceNames(definition, resolved['inputs'], warnings);
  findUnknownKeys(schema, resolved, '', warnings);
  findInertSettings(resolved, warnings);
  // The validator coerces no type (config-validator.ts); the one looseness the manuals show is a quoted
  // number for a numeric key.
  coerceQuotedNumbers(schema, resolved);
  const validate = configValidator(schema);
  if (!validate(resolved)) {
    const errors = (validate.errors ?? []).map(describe);
    const first = errors[0]!;
    const more = errors.slice(1).map((e) => `${e.message} (${e.path})`);
    throw new ConfigError(10, [first.message, ...more].join('; '), { path: first.path });
  }
  const config = resolved as unknown as Omit<CollectorConfig, 'file' | 'workDir' | 'warnings'>;
  if (!options.externalOutputs && Object.keys(config.outputs ?? {}).length === 0) {
    throw new ConfigError(13, 'No output: configure at least one under <outputs> (devo_platform, relay, syslog or console)', { path: 'outputs' });
  }

  config.globals.name ??= definition.name;
  config.globals.id = String(config.globals.id);
  for (const [name, input] of Object.entries(config.inputs ?? {})) {
    if (!definition.inputs.some((i) => i.name === name)) continue;
    input.id = String(input.id);
  }
  const known = Object.keys(config.inputs ?? {}).filter((n) => definition.inputs.some((i) => i.name === n));
  if (!known.some((n) => config.inputs[n]!.enabled !== false)) {
    const names = definition.inputs.map((i) => i.name).join(', ');
    throw new ConfigError(11, `No enabled input: this collector runs ${names}`, { path: 'inputs' });
  }
  return { ...config, file, workDir, warnings };
}

/**
 * Every configured service must be one the input runs: an unknown name is a ConfigError listing the known
 * ones (a typo must not validate and then collect nothing). A deprecated alias is renamed to its service's
 * current name with a warning.
 */
function resolveServiceNames(definition: CollectorDefinition, inputs: unknown, warnings: string[]): void {
  if (!inputs || typeof inputs !== 'object') return;
  for (const input of definition.inputs) {
    const services = ((inputs as Record<string, InputConfig | null>)[input.name] ?? undefined)?.services;
    if (!services || typeof services !== 'object' || Array.isArray(services)) continue;
    for (const name of Object.keys(services)) {
      if (input.services[name]) continue;
      const path = `inputs.${input.name}.services.${name}`;
      const current = Object.entries(input.services).find(([, s]) => s.aliases?.includes(name))?.[0];
      if (!current) {
        throw new ConfigError(12, `Unknown service <${name}>; the known services of inputs.${input.name} are: ${Object.keys(input.services).join(', ')}`, { path });
      }
      if (services[current]) throw new ConfigError(12, `Service <${name}> is an old name of <${current}>, which is configured too; keep one`, { path });
      warnings.push(`Service <${path}> is deprecated: it is now called <${current}>; rename it in config.yaml`);
      services[current] = services[name]!;
      delete services[name];
    }
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Quoted numbers (`port: "443"`) become numbers where the schema wants a number and nothing else; empty
 * values are absent keys.
 */
function coerceQuotedNumbers(schema: JsonSchema, value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const props = schema['properties'] as Record<string, JsonSchema> | undefined;
  const additional = schema['additionalProperties'] as JsonSchema | undefined;
  const items = schema['items'] as JsonSchema | undefined;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const childSchema = Array.isArray(value) ? items : (props?.[key as string] ?? (typeof additional === 'object' ? additional : undefined));
    if (!childSchema) continue;
    const types = ([] as unknown[]).concat(childSchema['type'] ?? []);
    // An empty value (`key:` in YAML) means the key is not set, as in the manuals' templates.
    if (child === null && !types.includes('null') && !Array.isArray(value)) {
      delete (value as Record<string, unknown>)[key as string];
      continue;
    }
    const numeric = types.length > 0 && types.every((t) => t === 'number' || t === 'integer');
    if (numeric && typeof child === 'string' && NUMBER.test(child.trim())) {
      (value as Record<string | number, unknown>)[key] = Number(child.trim());
    } else {
      coerceQuotedNumbers(childSchema, child);
    }
  }
}

/** `services: {audit_infos: }` (YAML null) means "run it with its defaults". */
function emptyServicesToObjects(config: Record<string, unknown>): void {
  const inputs = config['inputs'];
  if (!inputs || typeof inputs !== 'object') return;
  for (const input of Object.values(inputs as Record<string, unknown>)) {
    const services = (input as Record<string, unknown> | null)?.['services'];
    if (!services || typeof services !== 'object') continue;
    for (const [name, value] of Object.entries(services)) if (value === null) (services as Record<string, unknown>)[name] = {};
  }
}

/** Credentials are secrets whether or not they came through a ${...} reference. */
function registerCredentialSecrets(definition: CollectorDefinition, config: Record<string, unknown>): void {
  const inputs = (config['inputs'] ?? {}) as Record<string, Record<string, unknown>>;
  for (const input of definition.inputs) {
    const credentials = inputs[input.name]?.['credentials'];
    if (!credentials || typeof credentials !== 'object') continue;
    for (const [key, value] of Object.entries(credentials)) {
      if (!input.obfuscate || input.obfuscate.includes(key)) registerSecret(value);
    }
  }
  const persistence = ((config['globals'] ?? {}) as Record<string, Record<string, Record<string, unknown>>>)['persistence'];
  registerSecret(persistence?.['config']?.['password']);
}
