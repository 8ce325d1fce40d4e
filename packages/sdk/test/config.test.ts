import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CollectorError, parseConfigDate, parseConfigTime } from '@collector/sdk';
import { clearSecrets, configSchema, configValidatorSource, loadConfig, redact, resolveConfigPath } from '@collector/sdk/host';
import { precompiledValidators } from '../src/config/precompiled-validators.js';
import { exampleCollector } from './example-input.js';

afterEach(() => clearSecrets());

function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'sdk-config-'));
}

const valid = `
globals:
  debug: false
  id: not_used
  name: example_collector
  persistence:
    type: filesystem
    config:
      directory_name: state
outputs:
  console_1:
    type: console
inputs:
  example:
    id: 964383
    enabled: true
    credentials:
      token: \${env:EXAMPLE_TOKEN}
    services:
      events:
        start_time: 2024-01-01T00:00:00Z
        override_base_url: http://127.0.0.1:1
`;

describe('config file location', () => {
  it('follows --config, then CONFIG_FILE inside config/, then config/config.yaml', () => {
    expect(resolveConfigPath('x/my.yaml', '/wd', {})).toBe('/wd/x/my.yaml');
    expect(resolveConfigPath(undefined, '/wd', { CONFIG_FILE: 'lark.yaml' })).toBe('/wd/config/lark.yaml');
    expect(resolveConfigPath(undefined, '/wd', {})).toBe('/wd/config/config.yaml');
  });
});

describe('loading a valid config', () => {
  it('resolves ${env:} and ${file:} references, applies defaults, and registers secrets for redaction', () => {
    const dir = workDir();
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'token'), 'token-from-file-123\n');
    process.env['EXAMPLE_TOKEN'] = 'token-from-env-456';
    const file = join(dir, 'config.yaml');
    writeFileSync(file, valid);
    const config = loadConfig(exampleCollector, file, { workDir: dir });
    expect(config.inputs['example']!.credentials!['token']).toBe('token-from-env-456');
    expect(config.inputs['example']!.id).toBe('964383');
    expect(config.globals.http_server).toEqual({ enabled: true, address: '0.0.0.0', port: 3000 });
    expect(config.globals.queue_max_size_in_messages).toBe(10000);
    expect(config.inputs['example']!.services!['events']!['request_period_in_seconds']).toBe(60);
    expect(redact('leak token-from-env-456 here')).toBe('leak **** here');

    writeFileSync(file, valid.replace('${env:EXAMPLE_TOKEN}', '${file:secrets/token}'));
    const fromFile = loadConfig(exampleCollector, file, { workDir: dir });
    expect(fromFile.inputs['example']!.credentials!['token']).toBe('token-from-file-123');
    expect(redact('token-from-file-123')).toBe('****');
  });

  it('warns about unknown keys instead of failing', () => {
    const dir = workDir();
    const file = join(dir, 'config.yaml');
    process.env['EXAMPLE_TOKEN'] = 'abcd1234';
    writeFileSync(file, valid.replace('  debug: false', '  debug: false\n  colour: blue').replace('        start_time:', '        shiny: true\n        start_time:'));
    const config = loadConfig(exampleCollector, file, { workDir: dir });
    expect(config.warnings).toEqual([
      'Unknown setting <globals.colour> is ignored',
      'Unknown setting <inputs.example.services.events.shiny> is ignored',
    ]);
  });

  it("warns about a Devo SDK setting it accepts but that does nothing here, naming it and why", () => {
    const dir = workDir();
    const file = join(dir, 'config.yaml');
    process.env['EXAMPLE_TOKEN'] = 'abcd1234';
    writeFileSync(file, valid.replace('  debug: false', '  debug: false\n  multiprocessing: true\n  queue_wrap_max_size_in_messages: 100'));
    const config = loadConfig(exampleCollector, file, { workDir: dir });
    expect(config.warnings).toEqual([
      'Setting <globals.multiprocessing> is accepted for Devo SDK compatibility and has no effect: every service runs concurrently in one process (the AWS collector decodes on worker threads: processing_threads)',
      'Setting <globals.queue_wrap_max_size_in_messages> is accepted for Devo SDK compatibility and has no effect: events are queued in delivery batches of delivery_batch_max_messages',
    ]);
    // Under any output's name.
    writeFileSync(file, valid.replace('    type: console\n', '    type: console\n    config: {sending_retries: 3}\n'));
    expect(loadConfig(exampleCollector, file, { workDir: dir }).warnings).toEqual([
      'Setting <outputs.console_1.config.sending_retries> is accepted for Devo SDK compatibility and has no effect: a failed write is retried with the connecting_* back-off until it succeeds',
    ]);
  });
});

// Each broken config gives one documented error type, ID, message and config path.
const broken: { name: string; yaml?: string; file?: string; env?: Record<string, string | undefined>; type: string; id: number; message: RegExp; path?: string }[] = [
  { name: 'missing file', file: 'nope.yaml', type: 'ConfigError', id: 1, message: /Cannot read the config file .*nope\.yaml: ENOENT/ },
  { name: 'YAML syntax', yaml: 'globals: [\n', type: 'ConfigError', id: 2, message: /not valid YAML at line \d+/ },
  { name: 'not a mapping', yaml: '- a\n- b\n', type: 'ConfigError', id: 2, message: /must hold a mapping/ },
  { name: 'unset env reference', yaml: valid, env: { EXAMPLE_TOKEN: undefined }, type: 'ConfigError', id: 3, message: /Environment variable EXAMPLE_TOKEN .* is not set/, path: 'inputs.example.credentials.token' },
  { name: 'unreadable file reference', yaml: valid.replace('${env:EXAMPLE_TOKEN}', '${file:/nonexistent/token}'), type: 'ConfigError', id: 4, message: /Cannot read \/nonexistent\/token/, path: 'inputs.example.credentials.token' },
  { name: 'missing credentials key', yaml: valid.replace('      token: ${env:EXAMPLE_TOKEN}\n', '      other: x\n'), type: 'ConfigError', id: 10, message: /Missing required setting <token>/, path: 'inputs.example.credentials.token' },
  { name: 'wrong type', yaml: valid.replace('type: filesystem', 'type: floppy'), type: 'ConfigError', id: 10, message: /Setting <type> must be one of "filesystem", "memory", "redis"/, path: 'globals.persistence.type' },
  { name: 'out of range', yaml: valid.replace('override_base_url', 'request_period_in_seconds: 0\n        override_base_url'), type: 'ConfigError', id: 10, message: /Setting <request_period_in_seconds> must be >= 1/, path: 'inputs.example.services.events.request_period_in_seconds' },
  { name: 'unknown service', yaml: valid.replace('      events:\n', '      evnets:\n'), type: 'ConfigError', id: 12, message: /^Unknown service <evnets>; the known services of inputs\.example are: events/, path: 'inputs.example.services.evnets' },
  { name: 'no output', yaml: valid.replace('outputs:\n  console_1:\n    type: console\n', ''), type: 'ConfigError', id: 13, message: /^No output: configure at least one under <outputs>/, path: 'outputs' },
  { name: 'a number for a tag (no coercion)', yaml: valid.replace('override_base_url:', 'override_devo_tag: 123\n        override_base_url:'), type: 'ConfigError', id: 10, message: /Setting <override_devo_tag> must be string/, path: 'inputs.example.services.events.override_devo_tag' },
  { name: 'a number for a credential (no coercion)', yaml: valid.replace('${env:EXAMPLE_TOKEN}', '12345678'), type: 'ConfigError', id: 10, message: /Setting <token> must be string/, path: 'inputs.example.credentials.token' },
  { name: 'no credentials block', yaml: valid.replace('    credentials:\n      token: ${env:EXAMPLE_TOKEN}\n', ''), type: 'ConfigError', id: 10, message: /Missing required setting <credentials>/, path: 'inputs.example.credentials' },
  { name: 'no enabled input', yaml: valid.replace('enabled: true', 'enabled: false'), type: 'ConfigError', id: 11, message: /No enabled input: this collector runs example/, path: 'inputs' },
];

describe('services', () => {
  it('runs only the services listed', () => {
    const dir = workDir();
    const file = join(dir, 'config.yaml');
    process.env['EXAMPLE_TOKEN'] = 'abcd1234';
    writeFileSync(file, valid);
    const input = exampleCollector.inputs[0]!;
    const twoServices = { ...exampleCollector, inputs: [{ ...input, services: { ...input.services, other: input.services['events']! } }] };
    expect(Object.keys(loadConfig(twoServices, file, { workDir: dir }).inputs['example']!.services!)).toEqual(['events']);
  });

  it('accepts quoted numbers for numeric keys and reads an empty value as unset', () => {
    const dir = workDir();
    const file = join(dir, 'config.yaml');
    process.env['EXAMPLE_TOKEN'] = 'abcd1234';
    writeFileSync(file, valid.replace('override_base_url:', 'request_period_in_seconds: "120"\n        override_devo_tag:\n        override_base_url:'));
    const events = loadConfig(exampleCollector, file, { workDir: dir }).inputs['example']!.services!['events']!;
    expect(events['request_period_in_seconds']).toBe(120);
    expect('override_devo_tag' in events).toBe(false);
  });

  it('renames a deprecated service name to its current one, with a warning', () => {
    const dir = workDir();
    const file = join(dir, 'config.yaml');
    process.env['EXAMPLE_TOKEN'] = 'abcd1234';
    writeFileSync(file, valid.replace('      events:\n', '      old_events:\n'));
    const input = exampleCollector.inputs[0]!;
    const renamed = { ...exampleCollector, inputs: [{ ...input, services: { events: { ...input.services['events']!, aliases: ['old_events'] } } }] };
    const config = loadConfig(renamed, file, { workDir: dir });
    expect(Object.keys(config.inputs['example']!.services!)).toEqual(['events']);
    expect(config.warnings).toContain('Service <inputs.example.services.old_events> is deprecated: it is now called <events>; rename it in config.yaml');
  });

  it('treats an empty service entry as "with defaults" (then its required keys are reported)', () => {
    const dir = workDir();
    const file = join(dir, 'config.yaml');
    process.env['EXAMPLE_TOKEN'] = 'abcd1234';
    writeFileSync(file, valid.replace(/      events:\n        start_time: .*\n        override_base_url: .*\n/, '      events:\n'));
    expect(() => loadConfig(exampleCollector, file, { workDir: dir })).toThrow(/^Missing required setting <start_time>/);
  });

  it('accepts request limit periods such as 5m (Graph) and rejects malformed ones', () => {
    const dir = workDir();
    const file = join(dir, 'config.yaml');
    process.env['EXAMPLE_TOKEN'] = 'abcd1234';
    writeFileSync(file, valid.replace('    enabled: true', '    enabled: true\n    requests_limits: [{period: 5m, number_of_requests: 100}]'));
    expect(loadConfig(exampleCollector, file, { workDir: dir }).inputs['example']!.requests_limits).toEqual([{ period: '5m', number_of_requests: 100 }]);
    writeFileSync(file, valid.replace('    enabled: true', '    enabled: true\n    requests_limits: [{period: 5 minutes, number_of_requests: 100}]'));
    expect(() => loadConfig(exampleCollector, file, { workDir: dir })).toThrow(/Setting <period> must match pattern/);
  });
});

// Twice: with the validator ajv compiles at start, and with the one an app's bundle carries, compiled at build
// time (configValidatorSource, as tooling/app-bundle does): the same errors, to the letter.
describe.each(['compiled at start', 'compiled at build time'])('broken configs, validator %s', (mode) => {
  const precompiled = precompiledValidators as Map<string, ValidateFunction>;
  const key = JSON.stringify(configSchema(exampleCollector));
  beforeAll(async () => {
    if (mode === 'compiled at start') return;
    // The standalone code require()s ajv's run-time helpers, which a bundle resolves from the SDK.
    const file = join(workDir(), 'validator.mjs');
    const sdk = pathToFileURL(new URL('../package.json', import.meta.url).pathname).href;
    writeFileSync(file, `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(sdk)});\n${configValidatorSource(configSchema(exampleCollector))}`);
    precompiled.set(key, ((await import(pathToFileURL(file).href)) as { default: ValidateFunction }).default);
  });
  afterAll(() => {
    precompiled.delete(key);
  });
  it('uses the validator it says', () => {
    expect(precompiled.has(key)).toBe(mode !== 'compiled at start');
  });
  for (const c of broken) {
    it(`${c.name} → ${c.type} ${c.id}`, () => {
      const dir = workDir();
      process.env['EXAMPLE_TOKEN'] = 'abcd1234';
      for (const [k, v] of Object.entries(c.env ?? {})) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      const file = join(dir, c.file ?? 'config.yaml');
      if (c.yaml !== undefined) writeFileSync(file, c.yaml);
      let caught: unknown;
      try {
        loadConfig(exampleCollector, file, { workDir: dir });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CollectorError);
      const error = caught as CollectorError;
      expect(error.type).toBe(c.type);
      expect(error.id).toBe(c.id);
      expect(error.message).toMatch(c.message);
      if (c.path) expect(error.path).toBe(c.path);
      expect(error.toLine()).toBe(`${c.type} ${c.id}: ${error.message}${c.path ? ` (${c.path})` : ''}`);
    });
  }
});

describe('config times', () => {
  it('accepts the formats of CONVENTIONS.md and rejects the rest', () => {
    expect(parseConfigTime('2024-06-24T08:09:59Z')?.toISOString()).toBe('2024-06-24T08:09:59.000Z');
    expect(parseConfigTime('2024-06-24T08:09:59')?.toISOString()).toBe('2024-06-24T08:09:59.000Z');
    expect(parseConfigTime('2024-06-24T08:09:59.25Z')?.toISOString()).toBe('2024-06-24T08:09:59.250Z');
    expect(parseConfigTime('2024-06-24T10:09:59+02:00')?.toISOString()).toBe('2024-06-24T08:09:59.000Z');
    expect(parseConfigTime('2024-02-31T00:00:00Z')).toBeUndefined();
    expect(parseConfigTime('24/06/2024')).toBeUndefined();
    expect(parseConfigTime(42)).toBeUndefined();
    expect(parseConfigDate('2024-06-24')?.toISOString()).toBe('2024-06-24T00:00:00.000Z');
    expect(parseConfigDate('2024-06-24T00:00:00Z')).toBeUndefined();
  });
});
