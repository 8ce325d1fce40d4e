import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stateFileName } from '@collector/sdk/host';
import { devoOutputConfig, freePort, type Rsyslog } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';
import { startExampleApi, type ExampleEvent } from './example-input.js';

// Delivery under failure, through the real command line in a child process (the exit code is the
// process's own) against the real rsyslog: the receiver down at start, refusing our certificate, not
// trusted, and a stop during an outage.

const HOUR = 3_600_000;
const child = fileURLToPath(new URL('./fixtures/delivery-cli-child.ts', import.meta.url));

const rsyslog = useRsyslog();
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

/** Runs the child; `when` is called once, when its output first matches `pattern`, with a way to signal it. */
function run(env: Record<string, string>, when?: { pattern: RegExp; then: (kill: (signal: NodeJS.Signals) => void) => void }): Promise<Exit> {
  const started = Date.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let fired = false;
  proc.stdout.on('data', (d) => {
    stdout += d;
    if (when && !fired && when.pattern.test(stdout)) {
      fired = true;
      when.then((signal) => proc.kill(signal));
    }
  });
  proc.stderr.on('data', (d) => (stderr += d));
  closers.push(async () => void proc.kill('SIGKILL'));
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

/** Lines at a level (`ERROR`, `WARNING`, ...) in the collector's text log. */
function lines(stdout: string, level: string): string[] {
  return stdout.split('\n').filter((l) => new RegExp(`^\\S+\\s+${level} `).test(l));
}

describe('fail fast when the receiver refuses us (--once)', () => {
  const cases = [
    { name: 'a client certificate the receiver rejects', id: 604, remedy: /The receiver does not accept cert\/key/, change: (pki: Rsyslog['pki']) => ({ cert: pki.rogueCert, key: pki.rogueKey }) },
    { name: 'a server certificate the chain does not verify', id: 605, remedy: /chain does not verify the server certificate/, change: (pki: Rsyslog['pki']) => ({ chain: pki.rogueCert }) },
  ];
  it.each(cases)('$name: exit 1 within once_refused_timeout_seconds with the ID and remedy, nothing delivered or committed; the rerun with the right certificates delivers everything once', async ({ id, remedy, change }) => {
    const { events, env, outputs, workDir } = await scenario(200);
    const from = rsyslog.lines().length;
    const bad = structuredClone(outputs);
    Object.assign(bad['devo_1']!.config, change(rsyslog.pki));
    const exit = await run({ ...env, OUTPUTS: JSON.stringify(bad), GLOBALS: JSON.stringify({ once_refused_timeout_seconds: 2 }) });
    expect(exit.code).toBe(1);
    // Bounded: 2 s of refusals plus start-up and stop, far below the 30 s the manual promises by default.
    expect(exit.ms).toBeLessThan(30_000);
    expect(exit.stderr).toBe('');
    expect(exit.stdout).not.toMatch(/^\s+at /m); // no stack trace
    const errors = lines(exit.stdout, 'ERROR');
    expect(errors.some((l) => new RegExp(`OutputError ${id}: .*--once gives up after 2 s of refusals \\(once_refused_timeout_seconds\\)`).test(l) && remedy.test(l))).toBe(true);
    expect(ids(from)).toEqual([]);
    expect(exit.stdout).toMatch(/Summary example\/events: received \d+, duplicates 0, sent 0, errors/);
    // No checkpoint ahead of delivery, nothing spooled in its place: the rerun pulls it all again.
    expect(JSON.parse(readFileSync(join(workDir, 'state', stateFileName('example;7;events')), 'utf8')).checkpoint).toBeNull();
    expect(existsSync(join(workDir, 'state', 'delivery'))).toBe(false);

    const rerun = await run(env);
    expect(rerun.code).toBe(0);
    expect(ids(from).sort()).toEqual(events.map((e) => e.id).sort()); // every event once
  }, 90_000);
});

describe('a daemon whose certificate is refused', () => {
  it('keeps retrying with /ready 503 and one ERROR line per minute at most; SIGTERM stops it with exit 0', async () => {
    const { env, outputs } = await scenario(50);
    const bad = structuredClone(outputs);
    Object.assign(bad['devo_1']!.config, { cert: rsyslog.pki.rogueCert, key: rsyslog.pki.rogueKey });
    const port = await freePort();
    let ready = -1;
    const exit = await run(
      { ...env, ARGS: '', OUTPUTS: JSON.stringify(bad), GLOBALS: JSON.stringify({ http_server: { enabled: true, address: '127.0.0.1', port }, once_refused_timeout_seconds: 1 }) },
      {
        pattern: / ERROR .*OutputError 604/,
        then: (kill) =>
          void (async () => {
            // Longer than once_refused_timeout_seconds: a daemon does not give up.
            await new Promise((r) => setTimeout(r, 4_000));
            ready = (await fetch(`http://127.0.0.1:${port}/ready`)).status;
            kill('SIGTERM');
          })(),
      },
    );
    expect(ready).toBe(503);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    const errors = lines(exit.stdout, 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/OutputError 604: .*rejected our client certificate.*The receiver does not accept cert\/key.*retrying with back-off/);
  }, 60_000);
});

describe('bounded stop', () => {
  it.each(['', '--once'])('SIGTERM while the receiver is down (%s): exit 0 within stop_timeout_seconds, events spooled, state saved; the next start delivers everything', async (args) => {
    const { events, env, workDir } = await scenario(300);
    await rsyslog.stop();
    const from = rsyslog.lines().length;
    let signalledAt = 0;
    const exit = await run(
      { ...env, ARGS: args },
      {
        // Once it pulls and fails against the dead receiver, stop it as Kubernetes would.
        pattern: /Output devo_1 failed to deliver/,
        then: (kill) =>
          void (async () => {
            await new Promise((r) => setTimeout(r, 2_000));
            signalledAt = Date.now();
            kill('SIGTERM');
          })(),
      },
    );
    const stopMs = Date.now() - signalledAt;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(stopMs).toBeLessThan(10_000);
    expect(exit.stdout).toMatch(/Stop requested: .*within stop_timeout_seconds, 10 s/);
    expect(exit.stdout).toMatch(/\[EMERGENCY PERSISTENCE SYSTEM\] devo_1 -> \d+ message\(s\) saved to /);
    const spooled = readdirSync(join(workDir, 'state', 'delivery')).filter((f) => f.endsWith('.jsonl'));
    expect(spooled.length).toBeGreaterThan(0);

    await rsyslog.restart();
    const next = await run(env);
    expect(next.code).toBe(0);
    expect(ids(from).sort()).toEqual(events.map((e) => e.id).sort()); // everything, once
  }, 60_000);
});
