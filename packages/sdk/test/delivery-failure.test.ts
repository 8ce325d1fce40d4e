import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { devoOutputConfig, startRsyslog, type Rsyslog } from '@collector/testkit';
import { startExampleApi, type ExampleEvent } from './example-input.js';

// Delivery under failure, through the real command line in a child process (the exit code is the
// process's own) against the real rsyslog: the receiver down at start, refusing our certificate, not
// trusted, and a stop during an outage.

const HOUR = 3_600_000;
const child = fileURLToPath(new URL('./fixtures/delivery-cli-child.ts', import.meta.url));

let rsyslog: Rsyslog;
beforeAll(async () => {
  rsyslog = await startRsyslog();
});
afterAll(async () => {
  await rsyslog?.stop();
});
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(env: Record<string, string>, onSpawn?: (kill: (signal: NodeJS.Signals) => void) => void): Promise<Exit> {
  const started = Date.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  closers.push(async () => void proc.kill('SIGKILL'));
  onSpawn?.((signal) => proc.kill(signal));
  return new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started })));
}

/** Received `id`s with the example tag since line `from`. */
function ids(from: number): string[] {
  return rsyslog
    .lines()
    .slice(from)
    .filter((l) => l.includes(' my.app.example.events: '))
    .map((l) => (JSON.parse(l.slice(l.indexOf(': ') + 2)) as { id: string }).id);
}

async function scenario(count: number) {
  const start = Date.now() - 6 * HOUR;
  const events: ExampleEvent[] = Array.from({ length: count }, (_, i) => ({ id: `e${i}`, t: start + i * 30_000 }));
  const api = await startExampleApi(events);
  closers.push(api.close);
  const workDir = mkdtempSync(join(tmpdir(), 'delivery-failure-'));
  const outputs = devoOutputConfig(rsyslog) as Record<string, { config: Record<string, unknown> }>;
  Object.assign(outputs['devo_1']!.config, { connecting_initial_wait_in_seconds: 0.2, connecting_max_wait_in_seconds: 1 });
  const env = { API_URL: api.url, START: new Date(start).toISOString(), WORK_DIR: workDir, OUTPUTS: JSON.stringify(outputs) };
  return { events, workDir, outputs, env };
}

describe('no silent exit', () => {
  it('--once with the receiver down at start and up 3 s later exits 0 with every event delivered once', async () => {
    const { events, env } = await scenario(300);
    await rsyslog.stop();
    const from = rsyslog.lines().length;
    const restarted = new Promise<void>((resolve) => setTimeout(() => void rsyslog.restart().then(resolve), 3_000));
    const exit = await run(env);
    await restarted;
    expect({ code: exit.code, stderr: exit.stderr }).toEqual({ code: 0, stderr: '' });
    expect(exit.stdout).toMatch(/Summary example\/events: received 300, duplicates 0, sent 300, errors 0/);
    expect(ids(from).sort()).toEqual(events.map((e) => e.id).sort());
  }, 60_000);
});
