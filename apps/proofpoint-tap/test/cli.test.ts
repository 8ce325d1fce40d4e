import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCollector } from '@collector/sdk';
import { proofpointTapCollector } from '@collector/proofpoint-tap';

/** What apps/proofpoint-tap/src/main.ts runs, with a config file in a Devo working directory. */
async function cli(configYaml: string, ...args: string[]) {
  const workDir = mkdtempSync(join(tmpdir(), 'pp-tap-cli-'));
  mkdirSync(join(workDir, 'config'));
  writeFileSync(join(workDir, 'config', 'config.yaml'), configYaml);
  const logStream = new PassThrough();
  let logs = '';
  logStream.on('data', (d) => (logs += d));
  const code = await runCollector(proofpointTapCollector, { argv: args, workDir, logStream, handleSignals: false });
  return { code, logs };
}

const config = (start: string) => `
globals:
  http_server: {enabled: false}
inputs:
  proofpoint_tap:
    id: 123456
    credentials:
      username: my-service-principal
      password: my-very-secret-value
    services:
      messagesBlocked:
        start_time_in_utc_format: "${start}"
      messagesDelivered: {}
      clicksBlocked:
        override_devo_tag: my.app.proofpoint.clicks
      clicksPermitted:
        request_period_in_seconds: 600
`;

describe('proofpoint-tap-collector --validate', () => {
  it('exits 0 for a valid config without touching the network or printing the secret', async () => {
    const { code, logs } = await cli(config('2024-05-14T00:00:00Z'), '--validate');
    expect(code).toBe(0);
    expect(logs).toContain('The configuration is valid');
    expect(logs).toContain('Overriding rule #1 - service key <override_devo_tag> with value <my.app.proofpoint.clicks>');
    expect(logs).not.toContain('my-very-secret-value');
  });

  it('fails with the manual SetupError 101 line for a bad start time', async () => {
    const { code, logs } = await cli(config('yesterday'), '--validate');
    // 2 once the SDK treats init's SetupError as a config error (.tmp/sdk-requests/proofpoint-tap.md #4).
    expect(code).not.toBe(0);
    expect(logs).toContain(
      'SetupError 101: start_time_in_utc is in future or not in proper format: <yesterday> is not in the format YYYY-MM-DDTHH:MM:SSZ (inputs.proofpoint_tap.services.messagesBlocked.start_time_in_utc_format)',
    );
  });
});
