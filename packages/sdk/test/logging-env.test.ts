import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { logSettings, runCollector, type CheckReport } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';
import { exampleCollector } from './example-input.js';
import { doctorCollector, doctorConfig, startDoctorApi } from './observability-vendor.js';

/**
 * JSON logs parse line by line from the very first line (also when the config cannot be loaded), every
 * timestamp carries its zone, LOG_LEVEL / LOG_FORMAT override the config, and `--check` keeps stdout for
 * its checklist.
 */
const saved = { LOG_LEVEL: process.env['LOG_LEVEL'], LOG_FORMAT: process.env['LOG_FORMAT'] };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  while (closers.length) await closers.pop()!();
});

function sink() {
  const stream = new PassThrough();
  const box = { text: '' };
  stream.on('data', (d) => (box.text += d));
  return { stream, box };
}

/** Every line is a JSON object whose `time` is ISO 8601 with a zone; returns them. */
function jsonLines(text: string): Record<string, unknown>[] {
  const lines = text.split('\n').filter((l) => l !== '');
  expect(lines.length).toBeGreaterThan(0);
  return lines.map((line) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    expect(record['time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    expect(Number.isNaN(Date.parse(String(record['time'])))).toBe(false);
    return record;
  });
}

function workDirWith(yaml: string): string {
  const workDir = mkdtempSync(join(tmpdir(), 'logging-'));
  mkdirSync(join(workDir, 'config'));
  writeFileSync(join(workDir, 'config', 'config.yaml'), yaml);
  return workDir;
}

const goodYaml = (extraGlobals = '') => `
globals:
  persistence: {type: memory}
  http_server: {enabled: false}
${extraGlobals}
outputs:
  console_1: {type: console}
inputs:
  example:
    id: 1
    credentials: {token: tok-123456}
    services:
      events: {start_time: "2024-01-01T00:00:00Z", override_base_url: "http://127.0.0.1:1"}
`;

describe('log settings', () => {
  it('LOG_LEVEL and LOG_FORMAT override globals; unknown values are warnings, not silence', () => {
    expect(logSettings({ debug: false, log_format: 'text' }, {})).toEqual({ level: 'info', json: false, warnings: [] });
    expect(logSettings({ debug: true, log_format: 'json' }, {})).toEqual({ level: 'debug', json: true, warnings: [] });
    expect(logSettings({ debug: true }, { LOG_LEVEL: 'WARN', LOG_FORMAT: 'json' })).toEqual({ level: 'warning', json: true, warnings: [] });
    expect(logSettings({ log_format: 'json' }, { LOG_FORMAT: 'text', LOG_LEVEL: 'error' })).toEqual({ level: 'error', json: false, warnings: [] });
    const odd = logSettings({}, { LOG_LEVEL: 'verbose', LOG_FORMAT: 'xml' });
    expect(odd).toMatchObject({ level: 'info', json: false });
    expect(odd.warnings).toEqual(['LOG_LEVEL=verbose is not one of error, warning, info, debug; using info', 'LOG_FORMAT=xml is not one of text, json; using text']);
  });
});

describe('JSON logs from the first line', () => {
  it('LOG_FORMAT=json: a config file that is not even YAML is reported as a zoned JSON line', async () => {
    process.env['LOG_FORMAT'] = 'json';
    const logs = sink();
    const code = await runCollector(exampleCollector, { argv: ['--validate'], workDir: workDirWith('inputs: [unclosed'), logStream: logs.stream, handleSignals: false });
    expect(code).toBe(2);
    const [first, ...rest] = jsonLines(logs.box.text);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ level: 'error' });
    expect(String(first!['msg'])).toMatch(/^ConfigError 2: The config file .* is not valid YAML/);
  });

  it('LOG_FORMAT=json: a usage error is a JSON line too', async () => {
    process.env['LOG_FORMAT'] = 'json';
    const err = sink();
    expect(await runCollector(exampleCollector, { argv: ['--frobnicate'], stderr: err.stream, handleSignals: false })).toBe(2);
    const [line, ...rest] = jsonLines(err.box.text);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: 'error', msg: "UsageError 1: Unknown option '--frobnicate'; see --help" });
  });

  it('globals.log_format: json is honoured for a config that fails validation, and for every line of a run', async () => {
    const logs = sink();
    const broken = goodYaml('  log_format: json\n  queue_max_size_in_messages: "many"');
    expect(await runCollector(exampleCollector, { argv: ['--validate'], workDir: workDirWith(broken), logStream: logs.stream, handleSignals: false })).toBe(2);
    expect(jsonLines(logs.box.text)[0]!['msg']).toMatch(/^ConfigError 10: /);

    const run = sink();
    expect(await runCollector(exampleCollector, { argv: ['--validate'], workDir: workDirWith(goodYaml('  log_format: json')), logStream: run.stream, handleSignals: false })).toBe(0);
    const records = jsonLines(run.box.text);
    expect(records.at(-1)).toMatchObject({ level: 'info', msg: 'The configuration is valid' });
  });

  it('with JSON logs, Node\'s own warnings are JSON warning lines too', async () => {
    process.env['LOG_FORMAT'] = 'json';
    const { defineCollector, defineInput, defineService } = await import('@collector/sdk');
    // A collector whose setup triggers a Node warning, as the AWS SDK does with its Node version notice.
    const warns = defineCollector({
      name: 'warning_collector',
      version: '0.0.1',
      inputs: [
        defineInput({
          name: 'w',
          setup: async () => ({}),
          services: {
            s: defineService({
              tag: 'my.app.warning.s',
              async init() {
                process.emitWarning('Node 20 is end of life', 'NodeVersionSupportWarning');
                await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
              },
              async *pull() {},
            }),
          },
        }),
      ],
    });
    const logs = sink();
    const listeners = process.listenerCount('warning');
    expect(await runCollector(warns, { argv: ['--validate'], workDir: workDirWith('outputs:\n  console_1: {type: console}\ninputs:\n  w:\n    id: 1\n    services:\n      s:\n'), logStream: logs.stream, handleSignals: false })).toBe(0);
    expect(jsonLines(logs.box.text)).toContainEqual(expect.objectContaining({ level: 'warning', msg: 'NodeVersionSupportWarning: Node 20 is end of life' }));
    expect(process.listenerCount('warning')).toBe(listeners); // removed again after the run
  });

  it('LOG_LEVEL=error keeps info lines out, LOG_LEVEL=debug adds debug lines; an unknown LOG_LEVEL is warned about', async () => {
    process.env['LOG_LEVEL'] = 'error';
    const quiet = sink();
    expect(await runCollector(exampleCollector, { argv: ['--validate'], workDir: workDirWith(goodYaml()), logStream: quiet.stream, handleSignals: false })).toBe(0);
    expect(quiet.box.text).toBe('');

    process.env['LOG_LEVEL'] = 'loud';
    process.env['LOG_FORMAT'] = 'json';
    const warned = sink();
    expect(await runCollector(exampleCollector, { argv: ['--validate'], workDir: workDirWith(goodYaml()), logStream: warned.stream, handleSignals: false })).toBe(0);
    expect(jsonLines(warned.box.text)[0]).toMatchObject({ level: 'warning', msg: 'LOG_LEVEL=loud is not one of error, warning, info, debug; using info' });
  });
});

describe('--check output streams', () => {
  async function check(argv: string[]) {
    const api = await startDoctorApi({ events: [{ id: 'a', t: Date.now() - 60_000 }] });
    closers.push(api.close);
    const out = sink();
    const err = sink();
    const code = await runCollector(doctorCollector, {
      argv,
      workDir: mkdtempSync(join(tmpdir(), 'check-streams-')),
      config: doctorConfig(api, new Date(Date.now() - 3_600_000).toISOString()),
      outputs: [new CapturingOutput()],
      stdout: out.stream,
      stderr: err.stream,
      handleSignals: false,
    });
    return { code, out: out.box.text, err: err.box.text, api };
  }

  it('writes the checklist to stdout and its log lines to stderr', async () => {
    const { code, out, err } = await check(['--check']);
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toMatch(/^Checking doctor_collector 0\.0\.1/);
    expect(out).toContain('All 3 checks passed');
    expect(out).not.toMatch(/ INFO /);
    expect(err).toMatch(/ INFO InputProcess::.* -> Starting the setup/);
    expect(err).not.toContain('[ OK ]');
  });

  it('--json prints one JSON document with every check; --json alone is a usage error', async () => {
    const { code, out, err, api } = await check(['--check', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out) as CheckReport;
    expect(report).toMatchObject({ collector: 'doctor_collector', version: '0.0.1', ok: true, passed: 3, failed: 0 });
    expect(report.checks.map((c) => [c.kind, c.input ?? c.output, c.service, c.ok])).toEqual([
      ['input', 'doctor', 'alerts', true],
      ['input', 'doctor', 'audit', true],
      ['output', 'capture', undefined, true],
    ]);
    expect(report.checks[0]!.detail).toMatch(/^authenticated, smallest request answered \(\d+ ms\)$/);
    expect(out + err).not.toContain(api.token);

    const usage = sink();
    expect(await runCollector(exampleCollector, { argv: ['--once', '--json'], stderr: usage.stream, handleSignals: false })).toBe(2);
    expect(usage.box.text).toMatch(/^UsageError 1: --json goes with --check/);
  });
});
