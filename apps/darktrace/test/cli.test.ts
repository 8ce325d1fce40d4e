import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCollector } from '@collector/sdk/host';
import { darktraceCollector } from '@collector/darktrace';

/** What apps/darktrace/src/main.ts runs, with a config file in a Devo working directory. */
async function cli(configYaml: string, ...args: string[]) {
  const workDir = mkdtempSync(join(tmpdir(), 'darktrace-cli-'));
  mkdirSync(join(workDir, 'config'));
  writeFileSync(join(workDir, 'config', 'config.yaml'), configYaml);
  const logStream = new PassThrough();
  let logs = '';
  logStream.on('data', (d) => (logs += d));
  const code = await runCollector(darktraceCollector, { argv: args, workDir, logStream, handleSignals: false });
  return { code, logs };
}

const config = (service: string) => `
globals:
  http_server: {enabled: false}
outputs:
  console_1: {type: console}
inputs:
  darktrace:
    id: 12345
    credentials:
      public_token: pub-0123456789
      private_token: priv-0123456789
      instance: azeus1-75836-01.cloud.darktrace.com
    services:
      modelbreaches:
${service}
`;

describe('darktrace-collector --validate', () => {
  it('exits 0 for a valid config without touching the network', async () => {
    const { code, logs } = await cli(config('        start_time_in_utc_format: "2024-05-14T00:00:00"'), '--validate');
    expect(code).toBe(0);
    expect(logs).toContain('The configuration is valid');
    expect(logs).not.toContain('priv-0123456789');
  });

  it('exits 2 with the manual error line for a bad start time', async () => {
    const { code, logs } = await cli(config('        start_time_in_utc_format: "yesterday"'), '--validate');
    expect(code).toBe(2);
    expect(logs).toContain('InitVariablesError 34: inputs.darktrace.services.modelbreaches.start_time_in_utc_format does not match the format');
  });
});
