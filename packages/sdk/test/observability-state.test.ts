import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime, runCollector, stateFileName } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';
import { doctorCollector, doctorConfig, startDoctorApi } from './observability-vendor.js';

const HOUR = 3_600_000;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function showState(config: unknown, workDir: string) {
  const out = new PassThrough();
  const logs = new PassThrough();
  let text = '';
  let logText = '';
  out.on('data', (d) => (text += d));
  logs.on('data', (d) => (logText += d));
  const code = await runCollector(doctorCollector, { argv: ['--show-state'], workDir, config, outputs: [new CapturingOutput()], logStream: logs, stdout: out, handleSignals: false });
  return { code, text, logText, report: JSON.parse(text) as { services: Record<string, unknown>[]; inputs: Record<string, unknown>[]; store: string } };
}

function stateFiles(workDir: string): Record<string, string> {
  const dir = join(workDir, 'state');
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

describe('--show-state', () => {
  it('prints checkpoint, its time and lag, dedup window and request budgets; no secret; writes nothing', async () => {
    const start = Date.now() - 2 * HOUR;
    const api = await startDoctorApi({ token: 'show-state-token-31337', events: [{ id: 'a', t: start + 1000 }, { id: 'b', t: start + 2000 }] });
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'show-state-'));
    const config = doctorConfig(api, new Date(start).toISOString()) as ReturnType<typeof doctorConfig> & { inputs: { doctor: Record<string, unknown> } };
    config.inputs.doctor['requests_limits'] = [
      { period: '1m', number_of_requests: 60 },
      { period: '1d', number_of_requests: 1000 },
    ];
    expect((await new CollectorRuntime(doctorCollector, { workDir, config, outputs: [new CapturingOutput()], logStream: new PassThrough() }).runOnce()).ok).toBe(true);
    const requestsMade = api.requests;

    // A service that stored something secret-looking in its extra state, and a secret echoed in a value.
    const file = join(workDir, 'state', stateFileName('doctor;7;audit'));
    const state = JSON.parse(readFileSync(file, 'utf8'));
    state.extra = { refresh_token: 'rt-abcdef-123456', cursor: 'page-7', note: 'sent with show-state-token-31337' };
    writeFileSync(file, JSON.stringify(state));
    const before = stateFiles(workDir);

    const { code, text, logText, report } = await showState(config, workDir);
    expect(code).toBe(0);
    expect(report.store).toBe('filesystem');
    const alerts = report.services.find((s) => s['service'] === 'alerts')!;
    expect(alerts).toMatchObject({ input: 'doctor', input_id: '7', key: 'doctor;7;alerts', state: 'found', dedup_window_size: 2, dedup_window_capacity: 20_000, state_version: 1 });
    expect(typeof alerts['checkpoint']).toBe('string');
    expect(alerts['checkpoint_time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(alerts['behind_by']).toMatch(/^\d+ s$/);
    const audit = report.services.find((s) => s['service'] === 'audit')!;
    expect(audit['extra']).toEqual({ refresh_token: '****', cursor: 'page-7', note: 'sent with ****' });
    expect(report.inputs).toEqual([
      {
        input: 'doctor',
        input_id: '7',
        request_budgets: {
          default: [
            { period: '1 min', limit: 60, used: null, remaining: null },
            { period: '1 d', limit: 1000, used: requestsMade, remaining: 1000 - requestsMade },
          ],
        },
      },
    ]);
    expect(text + logText).not.toContain('show-state-token-31337');
    expect(text).not.toContain('rt-abcdef-123456');
    expect(stateFiles(workDir)).toEqual(before);
  });

  it('reports a corrupt state file and leaves it where it is', async () => {
    const api = await startDoctorApi();
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'show-corrupt-'));
    mkdirSync(join(workDir, 'state'));
    writeFileSync(join(workDir, 'state', stateFileName('doctor;7;alerts')), '{"checkpoint": "2024-01-0');
    const before = stateFiles(workDir);
    const { code, report } = await showState(doctorConfig(api, new Date(Date.now() - HOUR).toISOString()), workDir);
    expect(code).toBe(0);
    const alerts = report.services.find((s) => s['service'] === 'alerts')!;
    expect(alerts['state']).toBe('unreadable');
    expect(alerts['error']).toMatch(/The state file .* is corrupt/);
    expect(stateFiles(workDir)).toEqual(before);
  });

  it('says when a service has no state yet', async () => {
    const api = await startDoctorApi();
    closers.push(api.close);
    const { code, report } = await showState(doctorConfig(api, new Date(Date.now() - HOUR).toISOString()), mkdtempSync(join(tmpdir(), 'show-none-')));
    expect(code).toBe(0);
    expect(report.services.map((s) => [s['state'], s['starts']])).toEqual([['none', 'from the configured start (no saved position)'], ['none', 'from the configured start (no saved position)']]);
    expect(api.requests).toBe(0);
  });
});
