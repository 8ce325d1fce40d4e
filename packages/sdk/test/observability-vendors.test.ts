import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type CollectorDefinition } from '@collector/sdk';
import { runCollector } from '@collector/sdk/host';
import { darktraceCollector } from '@collector/darktrace';
import { o365EmtCollector } from '@collector/o365-emt';
import { startDarktraceSimulator, startO365Simulator } from '@collector/simulators';
import { CapturingOutput } from '@collector/testkit';

/**
 * `--check` through real vendor packages against their simulators: the remedies printed are the vendors'
 * own (their manuals' wording), reached through the SDK's checklist.
 */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function check(definition: CollectorDefinition, config: unknown) {
  const out = new PassThrough();
  const logs = new PassThrough();
  let text = '';
  let logText = '';
  out.on('data', (d) => (text += d));
  logs.on('data', (d) => (logText += d));
  const code = await runCollector(definition, {
    argv: ['--check'],
    workDir: mkdtempSync(join(tmpdir(), 'check-vendor-')),
    config,
    outputs: [new CapturingOutput()],
    logStream: logs,
    stdout: out,
    handleSignals: false,
  });
  return { code, text, logText };
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const globals = { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } };

describe('--check with the vendor packages', () => {
  it('Darktrace: passes, then API DATE ERROR (clock skew) → fix the clock, exit 1', async () => {
    const sim = await startDarktraceSimulator();
    closers.push(() => sim.close());
    const config = {
      globals,
      inputs: {
        darktrace: {
          id: 'dt',
          credentials: { public_token: sim.publicToken, private_token: sim.privateToken, instance: sim.url },
          services: { modelbreaches: { start_time_in_utc_format: utc(Date.now() - 2 * 3_600_000) } },
        },
      },
    };
    const ok = await check(darktraceCollector, config);
    expect(ok.text).toMatch(/\[ OK \] input darktrace \(id dt\) service modelbreaches: authenticated/);
    expect(ok.code).toBe(0);

    sim.clockOffsetMs = 2 * 3_600_000;
    const skewed = await check(darktraceCollector, config);
    expect(skewed.code).toBe(1);
    expect(skewed.text).toMatch(/\[FAIL\] input darktrace \(id dt\) service modelbreaches: SetupError 104: .*API DATE ERROR/);
    expect(skewed.text).toMatch(/remedy: .*(clock|NTP)/i);
    expect(skewed.text + skewed.logText).not.toContain(sim.privateToken);
  });

  it('Microsoft 365: 401 (wrong secret) and 403 (no role) print the manual remedies, exit 1', async () => {
    const tenantId = 'f3a1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b';
    const clientId = '7d9e8f10-1a2b-4c3d-9e8f-a0b1c2d3e4f5';
    const clientSecret = 'Zq8~observability-check-secret-0123';
    const sim = await startO365Simulator({ tenantId, clientId, clientSecret });
    closers.push(() => sim.close());
    const config = (secret: string) => ({
      globals,
      inputs: {
        office365_exchange_message: {
          id: 7,
          max_historic_date_cutoff_days_back: 2,
          credentials: { tenant_id: tenantId, client_id: clientId, client_secret: secret },
          services: {
            office365_exchange_message_service: { override_base_url: sim.url, override_base_auth_url: sim.url },
            office365_exchange_message_graph_service: { override_base_url: sim.url, override_base_auth_url: sim.url },
          },
        },
      },
    });
    const ok = await check(o365EmtCollector, config(clientSecret));
    expect(ok.text).toMatch(/\[ OK \] input office365_exchange_message \(id 7\) service office365_exchange_message_service: authenticated/);
    expect(ok.code).toBe(0);

    const wrong = await check(o365EmtCollector, config('wrong-secret-value-9876'));
    expect(wrong.code).toBe(1);
    expect(wrong.text).toMatch(/\[FAIL\] input office365_exchange_message \(id 7\) service office365_exchange_message_service: SetupError 10\d: /);
    expect(wrong.text).toMatch(/remedy: /);
    expect(wrong.text + wrong.logText).not.toContain('wrong-secret-value-9876');

    sim.settings.rwsForbidden = true;
    const forbidden = await check(o365EmtCollector, config(clientSecret));
    expect(forbidden.code).toBe(1);
    expect(forbidden.text).toMatch(/\[FAIL\] .*SetupError 103: No permission to access the report for the organization/);
    expect(forbidden.text).toMatch(/remedy: .*Global Reader/);
    expect(forbidden.text + forbidden.logText).not.toContain(clientSecret);
  });
});
