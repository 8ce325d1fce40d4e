import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCollector } from '@collector/sdk/host';
import { exampleCollector, startExampleApi } from './example-input.js';

async function cli(args: string[], yaml?: string, workDir = mkdtempSync(join(tmpdir(), 'cli-'))) {
  if (yaml !== undefined) {
    mkdirSync(join(workDir, 'config'), { recursive: true });
    writeFileSync(join(workDir, 'config', 'config.yaml'), yaml);
  }
  const logs = new PassThrough();
  let text = '';
  logs.on('data', (d) => (text += d));
  const code = await runCollector(exampleCollector, { argv: args, workDir, logStream: logs, handleSignals: false });
  return { code, text };
}

const base = (start: string, token = 'tok-123456', url = 'http://127.0.0.1:1') => `
outputs:
  console_1: {type: console}
inputs:
  example:
    id: 1
    credentials: {token: ${token}}
    services:
      events: {start_time: "${start}", override_base_url: "${url}"}
`;

describe('the collector command line', () => {
  it('--validate accepts a good config without touching the network', async () => {
    const { code, text } = await cli(['--validate'], base('2024-01-01T00:00:00Z'));
    expect(code).toBe(0);
    expect(text).toContain('The configuration is valid');
    expect(text).not.toContain('tok-123456');
  });

  it('--validate rejects a date in the future with the documented error line, exit 2, no stack trace', async () => {
    const { code, text } = await cli(['--validate'], base('2999-01-01T00:00:00Z'));
    expect(code).toBe(2);
    expect(text).toContain('InitVariablesError 2: Date 2999-01-01T00:00:00Z is in the future (inputs.example.services.events.start_time)');
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('a vendor whose manual reports a bad option as SetupError still exits 2 on --validate', async () => {
    const { defineCollector, defineInput, defineService, SetupError } = await import('@collector/sdk');
    const strict = defineCollector({
      name: 'strict_collector',
      version: '0.0.1',
      inputs: [
        defineInput({
          name: 'strict',
          setup: async () => ({}),
          services: {
            s: defineService({
              tag: 'my.app.strict.s',
              init(ctx) {
                throw new SetupError(101, 'Start time is malformed', { path: `${ctx.path}.start_time` });
              },
              async *pull() {},
            }),
          },
        }),
      ],
    });
    const workDir = mkdtempSync(join(tmpdir(), 'cli-'));
    mkdirSync(join(workDir, 'config'));
    writeFileSync(join(workDir, 'config', 'config.yaml'), 'outputs:\n  console_1: {type: console}\ninputs:\n  strict:\n    id: 1\n    services:\n      s:\n');
    const logs = new PassThrough();
    let text = '';
    logs.on('data', (d) => (text += d));
    expect(await runCollector(strict, { argv: ['--validate'], workDir, logStream: logs, handleSignals: false })).toBe(2);
    expect(await runCollector(strict, { argv: ['--once'], workDir, logStream: logs, handleSignals: false })).toBe(2);
    expect(text).toContain('SetupError 101: Start time is malformed (inputs.strict.services.s.start_time)');
  });

  it('a missing config file is ConfigError 1, exit 2, no stack trace', async () => {
    const { code, text } = await cli([]);
    expect(code).toBe(2);
    expect(text).toMatch(/ConfigError 1: Cannot read the config file .*config\/config\.yaml: ENOENT/);
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('--help names the executable after the collector, with dashes', async () => {
    const { defineCollector } = await import('@collector/sdk');
    const chunks: string[] = [];
    const out = new PassThrough();
    out.on('data', (d) => chunks.push(String(d)));
    const named = defineCollector({ ...exampleCollector, name: 'proofpoint_tap_collector' });
    expect(await runCollector(named, { argv: ['--help'], stdout: out, handleSignals: false })).toBe(0);
    expect(chunks.join('')).toMatch(/^Usage: proofpoint-tap-collector \[--config PATH\]/);
  });

  it('an unknown flag is a usage error, exit 2', async () => {
    const err = new PassThrough();
    let text = '';
    err.on('data', (d) => (text += d));
    expect(await runCollector(exampleCollector, { argv: ['--frobnicate'], stderr: err, handleSignals: false })).toBe(2);
    expect(text).toMatch(/^UsageError 1: Unknown option '--frobnicate'/);
  });

  it('wrong credentials with --once: the SetupError line, exit 1, the secret never printed', async () => {
    const api = await startExampleApi([]);
    try {
      const { code, text } = await cli(['--once'], base('2024-01-01T00:00:00Z', 'wrong-token-987', api.url));
      expect(code).toBe(1);
      expect(text).toContain('SetupError 100: Wrong credentials');
      expect(text).not.toContain('wrong-token-987');
      expect(text).not.toMatch(/\n\s+at /);
    } finally {
      await api.close();
    }
  });
});
