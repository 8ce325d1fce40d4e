import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCollector } from '@collector/sdk/host';
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
      threats:
        include_forensics: true
`;

const CONSOLE = 'outputs:\n  console_1: {type: console}\n';

describe('proofpoint-tap-collector --validate', () => {
  it('exits 0 for a valid config without touching the network or printing the secret', async () => {
    const { code, logs } = await cli(config('2024-05-14T00:00:00Z') + CONSOLE, '--validate');
    expect(code).toBe(0);
    expect(logs).toContain('The configuration is valid');
    expect(logs).toContain('Overriding rule #1 - service key <override_devo_tag> with value <my.app.proofpoint.clicks>');
    expect(logs).not.toContain('my-very-secret-value');
  });

  it('fails with the manual SetupError 101 line for a bad start time', async () => {
    const { code, logs } = await cli(config('yesterday') + CONSOLE, '--validate');
    // A bad config exits 2, whatever error type the manual gives it.
    expect(code).toBe(2);
    expect(logs).toContain(
      'SetupError 101: start_time_in_utc is in future or not in proper format: <yesterday> is not in the format YYYY-MM-DDTHH:MM:SSZ (inputs.proofpoint_tap.services.messagesBlocked.start_time_in_utc_format)',
    );
  });
});

describe('proofpoint-tap-collector --check', () => {
  it('probes every service with one 30-second request and reports wrong credentials with the manual remedy', async () => {
    const { startProofpointSimulator } = await import('@collector/simulators');
    const sim = await startProofpointSimulator({ principal: 'my-service-principal', secret: 'my-very-secret-value' });
    // A click inside the probe window (it ends 60 s before now and lasts 30 s).
    const [click] = sim.generate({ service: 'clicksPermitted', count: 1, from: Date.now() - 80_000, to: Date.now() - 79_000 });
    const threatId = String(click!['threatID']);
    try {
      const yaml = (password: string) =>
        config('2024-05-14T00:00:00Z')
          .replace('my-very-secret-value', password)
          .replace(/( {6}(messagesBlocked|messagesDelivered|clicksBlocked|clicksPermitted|threats):)( \{\})?\n/g, `$1\n        override_base_url: ${sim.url}\n`) +
        'outputs:\n  console_1:\n    type: console\n';
      const out = new PassThrough();
      let text = '';
      out.on('data', (d) => (text += d));
      const dir = mkdtempSync(join(tmpdir(), 'pp-tap-check-'));
      mkdirSync(join(dir, 'config'));
      writeFileSync(join(dir, 'config', 'config.yaml'), yaml('my-very-secret-value'));
      const ok = await runCollector(proofpointTapCollector, { argv: ['--check'], workDir: dir, logStream: new PassThrough(), stdout: out, handleSignals: false });
      expect(text).not.toContain('my-very-secret-value');
      expect(ok).toBe(0);
      // One 30-second window per service (threats: /v2/siem/all), the Threat API for the threat in it, and
      // no forensics request (it would spend 1 of 50 a day).
      const siem = sim.requests.filter((r) => r.path.startsWith('/v2/siem/'));
      expect(siem.map((r) => r.path).sort()).toEqual(['/v2/siem/all', '/v2/siem/clicks/blocked', '/v2/siem/clicks/permitted', '/v2/siem/messages/blocked', '/v2/siem/messages/delivered']);
      for (const r of siem) expect(r.interval!.end - r.interval!.start).toBe(30_000);
      expect(sim.requests.filter((r) => !r.path.startsWith('/v2/siem/')).map((r) => r.path)).toEqual([`/v2/threat/summary/${threatId}`]);
      writeFileSync(join(dir, 'config', 'config.yaml'), yaml('wrong-secret-value'));
      text = '';
      const bad = await runCollector(proofpointTapCollector, { argv: ['--check'], workDir: dir, logStream: new PassThrough(), stdout: out, handleSignals: false });
      expect(bad).toBe(1);
      expect(text).toContain('SetupError 100');
      expect(text).toContain('Make sure that credentials are correct.');
      expect(text).not.toContain('wrong-secret-value');
    } finally {
      await sim.close();
    }
  });
});
