import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startO365Simulator, type O365Simulator } from '@collector/simulators';

// The built executable (CI builds before testing: `turbo run build && vitest run`).
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TENANT = 'c0ffee00-1111-4222-8333-444455556666';
const CLIENT = 'a11ce000-1111-4222-8333-444455556666';
const SECRET = 'cli~Secret.Value-9876543210';

function run(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

function workDir(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'o365-cli-'));
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'config.yaml'), yaml);
  return dir;
}

const configYaml = (services: string) => `globals:
  name: o365_emt_collector
  persistence: {type: filesystem, config: {directory_name: state}}
  http_server: {enabled: false}
outputs:
  console_1: {type: console}
inputs:
  office365_exchange_message:
    id: 100001
    max_historic_date_cutoff_days_back: "2"
    credentials:
      tenant_id: ${TENANT}
      client_id: ${CLIENT}
      client_secret: ${SECRET}
    services:
${services}`;

let sim: O365Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

// pnpm test builds the apps before vitest runs, so the executable is always there.
describe('o365-emt-collector executable', () => {
  it('--validate accepts the manual config and rejects an out-of-range delay with exit code 2', async () => {
    const ok = await run(['--validate'], workDir(configYaml('      office365_exchange_message_service:\n        reset_persistence_auth: "2026-04-01"\n')));
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('The configuration is valid');
    const bad = await run(['--validate'], workDir(configYaml('      office365_exchange_message_service:\n        override_time_delay_in_seconds: 200000\n')));
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('InitVariablesError 20: Optional setting: <override_time_delay_in_seconds> is out of range (1 to 172800)');
  });

  it('--start-at that is not an ISO 8601 UTC time is a usage error: exit 2, a clear message, nothing pulled', async () => {
    const dir = workDir(configYaml('      office365_exchange_message_graph_service: {}\n'));
    const bad = await run(['--once', '--start-at', '06/12/2026 09:30'], dir);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('UsageError 2: --start-at needs an ISO 8601 time in UTC such as YYYY-MM-DDTHH:MM:SSZ');
    expect(bad.out).toContain('--start-at TIME');
  });

  it('--once pulls through Graph and exits 0 without printing a credential', async () => {
    const now = Date.now();
    sim = await startO365Simulator({ tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET, generate: { messages: 50, from: new Date(now - 3 * 86_400_000), to: new Date(now) } });
    const dir = workDir(configYaml(`      office365_exchange_message_graph_service:\n        override_base_url: ${sim.url}\n        override_base_auth_url: ${sim.url}\n`));
    const once = await run(['--once'], dir);
    expect(once.code).toBe(0);
    expect(once.out).toContain('Remote data is up to date!');
    expect(once.out).toMatch(/Summary office365_exchange_message\/office365_exchange_message_graph_service: received \d+, duplicates 0, sent \d+, errors 0/);
    expect(once.out).not.toContain(SECRET);
    expect(once.out).not.toContain(TENANT);
    const state = await run(['--show-state'], dir);
    expect(state.code).toBe(0);
    expect(state.out).toContain('"start_time"');
  });
});
