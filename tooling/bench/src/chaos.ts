#!/usr/bin/env node
// `pnpm chaos`: fault injection against each collector's built app, counting events lost and duplicated
// against the simulators' ground truth. Writes docs/reliability.md. Random timing; the seed is printed so a
// run can be repeated.
import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readdirSync, readSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DEFAULT_BATCH_MESSAGES } from '@collector/sdk/host';
import type { SimulatorFault } from '@collector/simulators';
import { generatePki, startRsyslog, VENDOR_NAMES, type Pki, type Rsyslog } from '@collector/testkit';
import { cliMistake, parseCli } from '@collector/testkit/cli';
import { machineDescription } from './lib/machine.js';
import { writeReport } from './lib/report-file.js';
import { outputsFor } from './lib/output.js';
import { appMain, REPO_ROOT } from './lib/paths.js';
import { runNode, type ChildRun } from './lib/run-child.js';
import { tally, type Tally } from './lib/tally.js';
import { makeWorkDir } from './lib/workdir.js';
import { selectAdapters, shutdownAdapters, type VendorAdapter, type VendorScenario } from './vendors/index.js';

const SCENARIOS = ['baseline', 'kill9', 'receiver-outage', 'down-at-start', 'refused', 'sigterm-outage', 'vendor-faults', 'disk-full', 'corrupt-state'] as const;
const args = parseCli('node tooling/bench/dist/chaos.js', 'Each collector\'s built app under faults (kill -9, receiver outages, refused certificates, SIGTERM during an outage, vendor faults, a full disk, a corrupt state) against its simulator and a real rsyslog over TLS; counts lost and duplicated events and writes a Markdown report.', {
  events: { type: 'string', default: '5000', help: 'events per collector and scenario' },
  repeat: { type: 'string', default: '3', help: 'runs of each repeated scenario' },
  'outage-seconds': { type: 'string', default: '60', help: 'length of the receiver outage' },
  'kill-trials': { type: 'string', default: '20', help: 'kill -9 crashes per collector (spread over the three ways of choosing the moment)' },
  'start-trials': { type: 'string', default: '20', help: '--once runs with the receiver down for --down-at-start-seconds at start, per collector' },
  'down-at-start-seconds': { type: 'string', default: '5', help: 'how long the receiver is down at start in those runs' },
  only: { type: 'string', help: `comma-separated collectors: ${VENDOR_NAMES.join(', ')}` },
  scenarios: { type: 'string', help: `comma-separated scenarios: ${SCENARIOS.join(', ')}` },
  seed: { type: 'string', help: 'the random seed (printed by every run), to repeat a run\'s choices' },
  'logs-dir': { type: 'string', help: 'keeps every collector run\'s log in this directory' },
  out: { type: 'string', default: join(REPO_ROOT, 'docs', 'reliability.md'), help: 'the report written' },
});
/** The collectors of --only; a name the registry does not know is a usage mistake (one line, exit 2). */
function selectedAdapters(): VendorAdapter[] {
  try {
    return selectAdapters(args.only);
  } catch (error) {
    return cliMistake('node tooling/bench/dist/chaos.js', (error as Error).message);
  }
}
const EVENTS = Number(args.events);
const REPEAT = Math.max(1, Number(args.repeat));
const OUTAGE_SECONDS = Number(args['outage-seconds']);
const KILL_TRIALS = Math.max(1, Number(args['kill-trials']));
const START_TRIALS = Math.max(1, Number(args['start-trials']));
const DOWN_AT_START_SECONDS = Number(args['down-at-start-seconds']);
const SEED = Number(args.seed ?? Math.floor(Math.random() * 2 ** 31));
type ScenarioName = (typeof SCENARIOS)[number];
const selected = new Set<ScenarioName>((args.scenarios ? args.scenarios.split(',').map((s) => s.trim()) : SCENARIOS) as ScenarioName[]);
const unknownScenarios = [...selected].filter((s) => !SCENARIOS.includes(s));
if (unknownScenarios.length) {
  cliMistake('node tooling/bench/dist/chaos.js', `unknown scenario(s): ${unknownScenarios.join(', ')}; known: ${SCENARIOS.join(', ')}`);
}

/** mulberry32 from the printed seed: the random timings of a report can be replayed. */
let rngState = SEED >>> 0;
function random(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  vendor: string;
  scenario: string;
  detail: string;
  runs: string;
  lost: number;
  duplicates: number;
  bound: string;
  errorLine: string;
  verdict: 'pass' | 'FAIL' | 'n/a';
  note?: string;
}
const rows: Row[] = [];

const MAX_RESTARTS = 6;

/** Log lines at warning level or above (the SDK's line format `<time>   LEVEL proc::mod -> msg`). */
// The DCSDK logs a successful state save at WARNING: not a problem.
const BENIGN = /Persistence has been updated successfully/;
function problemLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => (/ (WARNING|ERROR|CRITICAL) /.test(l) || /^\w+Error \d+:/.test(l)) && !BENIGN.test(l));
}
function firstProblem(runs: ChildRun[], pattern?: RegExp): string {
  for (const r of runs) {
    for (const line of problemLines(r.stdout + r.stderr)) if (!pattern || pattern.test(line)) return line.replace(/^\S+\s+\w+\s+\S+ -> /, '').slice(0, 220);
  }
  return '';
}

interface Env {
  adapter: VendorAdapter;
  scenario: VendorScenario;
  rsyslog: Rsyslog;
  dir: string;
  configFile: string;
}

async function setup(adapter: VendorAdapter, pki: Pki, events = EVENTS): Promise<Env> {
  const rsyslog = await startRsyslog({ pki });
  const scenario = await adapter.start({ events, seed: randInt(1, 1e6) });
  // Pages of 500 where the page size is configurable (Graph: 5000 by default), so faults land mid-paging.
  const { dir, configFile } = makeWorkDir(adapter.name, scenario.config({ outputs: outputsFor(rsyslog), pageSize: 500 }));
  return { adapter, scenario, rsyslog, dir, configFile };
}
async function teardown(env: Env): Promise<void> {
  await env.scenario.close();
  await env.rsyslog.stop();
  rmSync(env.dir, { recursive: true, force: true });
}

let runCounter = 0;
async function runApp(env: Env, options: Parameters<typeof runNode>[2] = {}): Promise<ChildRun> {
  const run = await runNode(appMain(env.adapter.name), ['--once', '--config', env.configFile], { cwd: env.dir, timeoutMs: 600_000, ...options });
  // --logs-dir keeps every run's output for a closer look.
  if (args['logs-dir']) writeFileSync(join(args['logs-dir'], `${String(++runCounter).padStart(3, '0')}-${env.adapter.name}.log`), `${run.stdout}\n--- stderr\n${run.stderr}`);
  return run;
}

/** Reruns `--once` until it exits 0 (what a supervisor or the daemon's next cycle does), at most MAX_RESTARTS. */
/**
 * A queue source may still hold messages a killed run had received: invisible until the collector's
 * visibility timeout (120 s at least) runs out. Reruns go on while it has any, within this budget.
 */
const PENDING_BUDGET_MS = 200_000;

async function completeRuns(env: Env, runs: ChildRun[]): Promise<boolean> {
  const deadline = Date.now() + PENDING_BUDGET_MS;
  for (let failures = 0; failures < MAX_RESTARTS; ) {
    const r = await runApp(env);
    if (r.code !== 0) failures++;
    if (r.code === 0 && (await env.scenario.pending?.()) && Date.now() < deadline) {
      // Do not list every empty rerun while the messages are invisible: only the one that collects them.
      await sleep(5_000);
      continue;
    }
    runs.push(r);
    if (r.code === 0) return true;
  }
  return false;
}

/** What rsyslog holds, counted against the ground truth, after giving it a moment to flush. */
async function count(env: Env): Promise<Tally> {
  const truth = env.scenario.truth();
  let t = tally(env.rsyslog.lines(), truth, env.scenario.identity);
  for (let i = 0; i < 100 && t.lost > 0; i++) {
    await sleep(50);
    t = tally(env.rsyslog.lines(), truth, env.scenario.identity);
  }
  return t;
}

/**
 * A cheap running count of the lines rsyslog wrote (its file read incrementally, newlines counted): polled
 * every few ms to kill the collector at a point of progress, where lines() would re-read the whole file.
 */
function lineCounter(rsyslog: Rsyslog): () => number {
  const file = join(rsyslog.dir, 'out', 'received.jsonl');
  let offset = 0;
  let lines = 0;
  const buffer = Buffer.alloc(1 << 20);
  return () => {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return lines;
    }
    try {
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, offset);
        if (n <= 0) break;
        offset += n;
        for (let i = 0; i < n; i++) if (buffer[i] === 10) lines++;
      }
    } finally {
      closeSync(fd);
    }
    return lines;
  };
}

/** Kill once `share` of the scenario's events (plus a few log lines) reached the receiver. */
function killAtProgress(env: Env, share: number): Parameters<typeof runNode>[2] {
  const count = lineCounter(env.rsyslog);
  const target = Math.max(1, Math.floor(EVENTS * share));
  return { killCheck: () => count() >= target };
}

/** The SDK's delivery batch with the default `delivery_batch_max_messages` (chaos runs the defaults). */
const DELIVERY_BATCH = DEFAULT_BATCH_MESSAGES;

/**
 * What a crash may send again. A pull collector journals the keys of every acknowledged batch (the SDK's
 * acknowledgement journal), so only the batch in flight is re-sent: one delivery batch. A batch may carry
 * the end of one checkpoint window and the start of the next (the runner does not cut batches at window
 * ends), so a small window does not make the bound smaller. A queue collector (SQS) keeps the messages it
 * had not deleted.
 */
function batchBound(adapter: VendorAdapter, crashes: number): { limit: number; text: string } {
  const window = adapter.checkpointBatch(EVENTS);
  if (adapter.stateless) return { limit: window.events * crashes, text: `≤ ${crashes} × ${window.events} (${window.unit})` };
  return { limit: DELIVERY_BATCH * crashes, text: `≤ ${crashes} × ${DELIVERY_BATCH} (one delivery batch; checkpoint window ${window.events})` };
}

function exitCodes(runs: ChildRun[]): string {
  return runs.map((r) => (r.signal ? 'killed' : String(r.code))).join(' → ');
}

/** The phase a SIGKILL hit, from the last log line the collector printed before it. */
function phaseOf(stdout: string): string {
  const lines = stdout.trim().split('\n').filter((l) => l.includes(' -> '));
  const last = lines.at(-1) ?? '';
  if (lines.length === 0) return 'start-up';
  if (/Statistics|checkpoint|Summary/i.test(last)) return 'committing';
  if (/Retrieved|Pull Started|page|slot|window|events? received/i.test(last)) return 'pulling/sending';
  if (/token|Setup|validated|pullable/i.test(last)) return 'setup';
  return 'sending';
}

async function baseline(adapter: VendorAdapter, pki: Pki): Promise<void> {
  const env = await setup(adapter, pki);
  try {
    const started = performance.now();
    const runs = [await runApp(env)];
    const ms = performance.now() - started;
    const t = await count(env);
    rows.push({
      vendor: adapter.name, scenario: 'baseline (no fault)', detail: `${env.scenario.truth().size} events, ${(ms / 1000).toFixed(1)} s`, runs: exitCodes(runs),
      lost: t.lost, duplicates: t.duplicates, bound: '0', errorLine: firstProblem(runs) || '(none)', verdict: t.lost === 0 && t.duplicates === 0 && runs[0]!.code === 0 ? 'pass' : 'FAIL',
    });
  } finally {
    await teardown(env);
  }
}

/** kill -9 at a random moment: at a random time of the run, or a random delay after a pull / commit log line. */
async function kill9(adapter: VendorAdapter, pki: Pki): Promise<void> {
  const modes: { name: string; options: (env: Env) => Parameters<typeof runNode>[2] }[] = [
    // A random point of progress: after a random share (1–95 %) of the events reached the receiver.
    { name: 'random progress', options: (env) => killAtProgress(env, randInt(1, 95) / 100) },
    { name: 'while pulling', options: () => { const d = randInt(0, 200); return { killWhen: (chunk: string) => (/Retrieved|Pull [Ss]tarted|Time Window|Running a new pipeline/.test(chunk) ? d || true : false) }; } },
    { name: 'at a commit', options: () => { const d = randInt(0, 20); return { killWhen: (chunk: string) => (/Statistics|Retrieved \d+|Savepoint|Pull Summary/.test(chunk) ? d || true : false) }; } },
  ];
  const trials = adapter.maxRepeat !== undefined ? Math.min(KILL_TRIALS, adapter.maxRepeat * modes.length) : KILL_TRIALS;
  const crashes: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const mode = modes[trial % modes.length]!;
    const i = Math.floor(trial / modes.length);
    {
      const env = await setup(adapter, pki);
      try {
        const first = await runApp(env, mode.options(env));
        const runs = [first];
        const killed = first.signal === 'SIGKILL';
        const done = await completeRuns(env, runs);
        const t = await count(env);
        const bound = batchBound(adapter, killed ? 1 : 0);
        if (killed) crashes.push(t.duplicates);
        rows.push({
          vendor: adapter.name, scenario: 'kill -9', detail: `${mode.name}: ${killed ? `killed at ${Math.round(first.killedAtMs ?? 0)} ms (${phaseOf(first.stdout)})` : 'finished before the kill'}`,
          runs: exitCodes(runs), lost: t.lost, duplicates: t.duplicates, bound: bound.text, errorLine: killed ? '(SIGKILL: no line possible)' : '',
          verdict: done && t.lost === 0 && t.duplicates <= bound.limit ? 'pass' : 'FAIL',
          ...(killed ? {} : { note: 'the run ended before the kill: not a crash test' }),
        });
        log(`${adapter.name} kill9 ${mode.name} #${i + 1}: ${exitCodes(runs)} lost ${t.lost} dup ${t.duplicates}`);
      } finally {
        await teardown(env);
      }
    }
  }
  const bound = batchBound(adapter, 1);
  killSummaries.push({ vendor: adapter.name, trials, crashes: crashes.length, maxDuplicates: Math.max(0, ...crashes), meanDuplicates: crashes.length ? crashes.reduce((a, b) => a + b, 0) / crashes.length : 0, within: crashes.filter((d) => d <= bound.limit).length, bound: bound.text });
}

interface KillSummary {
  vendor: string;
  trials: number;
  crashes: number;
  maxDuplicates: number;
  meanDuplicates: number;
  within: number;
  bound: string;
}
const killSummaries: KillSummary[] = [];

/** Whether a run printed a stack trace (a `    at f (file:line:col)` frame) anywhere. */
function hasStack(run: ChildRun): boolean {
  return /^\s+at .+(:\d+:\d+\)?)$/m.test(run.stdout + run.stderr);
}

/**
 * `--once` with the receiver down when it starts, back DOWN_AT_START_SECONDS later: it must wait, deliver
 * everything and exit 0 (it once exited 13, Node's "unsettled top-level await", mid-retry). One row per
 * collector for START_TRIALS runs.
 */
async function downAtStart(adapter: VendorAdapter, pki: Pki): Promise<void> {
  const codes: string[] = [];
  const seconds: number[] = [];
  let lost = 0;
  let duplicates = 0;
  let ok = 0;
  let line = '';
  for (let i = 0; i < START_TRIALS; i++) {
    const env = await setup(adapter, pki);
    try {
      await env.rsyslog.stop();
      let back: Promise<void> = Promise.resolve();
      const run = await runApp(env, {
        onSpawn: () => {
          back = sleep(DOWN_AT_START_SECONDS * 1000).then(() => env.rsyslog.restart());
        },
      });
      await back;
      const t = await count(env);
      codes.push(run.signal ?? String(run.code));
      seconds.push(run.wallMs / 1000);
      lost += t.lost;
      duplicates += t.duplicates;
      line ||= firstProblem([run], /Output|connect|ECONNREFUSED/i);
      if (run.code === 0 && t.lost === 0 && t.duplicates === 0) ok++;
      log(`${adapter.name} down-at-start #${i + 1}: exit ${run.code} in ${(run.wallMs / 1000).toFixed(1)} s, lost ${t.lost} dup ${t.duplicates}`);
    } finally {
      await teardown(env);
    }
  }
  const tally = [...new Set(codes)].map((c) => `${codes.filter((x) => x === c).length}× ${c}`).join(', ');
  rows.push({
    vendor: adapter.name, scenario: `receiver down ${DOWN_AT_START_SECONDS} s at start (--once)`,
    detail: `${ok} of ${START_TRIALS} runs exited 0 with every event delivered once; run time ${Math.min(...seconds).toFixed(1)}–${Math.max(...seconds).toFixed(1)} s`,
    runs: tally, lost, duplicates, bound: '0', errorLine: line || '(none)', verdict: ok === START_TRIALS ? 'pass' : 'FAIL',
  });
}

/** How long a refused `--once` may take at most (the issue's bound; default once_refused_timeout_seconds is 20). */
const REFUSED_BOUND_MS = 30_000;

/**
 * `--once` against a receiver that refuses us (a rogue client certificate) or that we must not trust (a
 * chain that did not sign its certificate): exit 1 within 30 s, the error ID and its remedy, no stack, no
 * event delivered; then the same working directory with the right certificates delivers everything once.
 */
async function refusedRuns(adapter: VendorAdapter, pki: Pki): Promise<void> {
  const kinds = [
    { name: 'refused client certificate', id: 604, extra: { cert: pki.rogueCert, key: pki.rogueKey } },
    { name: 'untrusted server certificate', id: 605, extra: { chain: pki.rogueCert } },
  ];
  for (const kind of kinds) {
    const env = await setup(adapter, pki);
    try {
      const good = env.scenario.config({ outputs: outputsFor(env.rsyslog), pageSize: 500 });
      makeWorkDir(adapter.name, env.scenario.config({ outputs: outputsFor(env.rsyslog, kind.extra), pageSize: 500 }), env.dir);
      const first = await runApp(env);
      const atExit = await count(env);
      const delivered = env.scenario.truth().size - atExit.lost;
      const errorLine = firstProblem([first], new RegExp(`OutputError ${kind.id}`));
      const remedy = new RegExp(`OutputError ${kind.id}: .*once_refused_timeout_seconds.*(Download the certificate|check_hostname|chain does not verify)`).test(first.stdout);
      makeWorkDir(adapter.name, good, env.dir);
      const second = await runApp(env);
      const t = await count(env);
      const pass = first.code === 1 && first.wallMs <= REFUSED_BOUND_MS && !hasStack(first) && remedy && delivered === 0 && second.code === 0 && t.lost === 0 && t.duplicates === 0;
      rows.push({
        vendor: adapter.name, scenario: `${kind.name} (--once)`,
        detail: `exit ${first.code} after ${(first.wallMs / 1000).toFixed(1)} s (bound ${REFUSED_BOUND_MS / 1000} s), ${hasStack(first) ? 'a stack trace printed' : 'no stack trace'}, remedy ${remedy ? 'printed' : 'MISSING'}, ${delivered} event(s) delivered; rerun with the right certificates: exit ${second.code}`,
        runs: exitCodes([first, second]), lost: t.lost, duplicates: t.duplicates, bound: '0', errorLine: errorLine || '(none)', verdict: pass ? 'pass' : 'FAIL',
      });
      log(`${adapter.name} ${kind.name}: ${exitCodes([first, second])} in ${(first.wallMs / 1000).toFixed(1)} s, delivered ${delivered} before, lost ${t.lost} dup ${t.duplicates}`);
    } finally {
      await teardown(env);
    }
  }
}

/** The stop bound of the issue (default stop_timeout_seconds is 10). */
const STOP_BOUND_MS = 10_000;

/**
 * SIGTERM while the receiver is down: `--once` started, the receiver stopped once the first lines arrived,
 * SIGTERM 1–3 s into the outage. The stop must end within 10 s with exit 0 (the rest spooled, state saved);
 * the receiver comes back only after the exit, and the next start must deliver everything.
 */
async function sigtermOutage(adapter: VendorAdapter, pki: Pki): Promise<void> {
  const env = await setup(adapter, pki);
  try {
    let signalledAt = 0;
    let what = '';
    let outage: Promise<void> = Promise.resolve();
    const first = await runApp(env, {
      onSpawn: (pid) => {
        outage = (async () => {
          const deadline = Date.now() + 60_000;
          while (env.rsyslog.count() === 0 && Date.now() < deadline) await sleep(5);
          const at = env.rsyslog.count();
          await env.rsyslog.stop();
          const wait = randInt(1000, 3000);
          await sleep(wait);
          what = `receiver stopped after ${at} lines, SIGTERM ${wait} ms later`;
          signalledAt = performance.now();
          if (pid !== undefined) process.kill(pid, 'SIGTERM');
        })();
      },
    });
    const stopMs = performance.now() - signalledAt;
    await outage;
    const runs = [first];
    const spooled = spoolFiles(env.dir).length;
    await env.rsyslog.restart();
    runs.push(await runApp(env));
    const t = await count(env);
    const pass = first.code === 0 && signalledAt > 0 && stopMs <= STOP_BOUND_MS && runs[1]!.code === 0 && t.lost === 0;
    rows.push({
      vendor: adapter.name, scenario: 'SIGTERM during a receiver outage (--once)',
      detail: `${what}: exit ${first.signal ?? first.code} ${(stopMs / 1000).toFixed(1)} s after SIGTERM (bound ${STOP_BOUND_MS / 1000} s), ${spooled} spool file(s) left; the next start (receiver back) sent them`,
      runs: exitCodes(runs), lost: t.lost, duplicates: t.duplicates, bound: '≤ unacknowledged window', errorLine: firstProblem([first], /Stop|spool|EMERGENCY|not acknowledged/i) || '(none)',
      verdict: pass ? 'pass' : 'FAIL',
    });
    log(`${adapter.name} sigterm-outage: ${exitCodes(runs)} stop ${(stopMs / 1000).toFixed(1)} s lost ${t.lost} dup ${t.duplicates}`);
  } finally {
    await teardown(env);
  }
}

/** The receiver stopped for OUTAGE_SECONDS at a random moment after the first events arrived, then restarted. */
async function receiverOutage(adapter: VendorAdapter, pki: Pki): Promise<void> {
  const env = await setup(adapter, pki);
  try {
    let outage = Promise.resolve<string>('not started');
    const delay = randInt(0, 500);
    const runs: ChildRun[] = [];
    const runP = runApp(env, {
      onSpawn: () => {
        outage = (async () => {
          const deadline = Date.now() + 60_000;
          while (env.rsyslog.count() === 0 && Date.now() < deadline) await sleep(5);
          await sleep(delay);
          const at = env.rsyslog.count();
          await env.rsyslog.stop();
          await sleep(OUTAGE_SECONDS * 1000);
          await env.rsyslog.restart();
          return `stopped after ${at} lines (+${delay} ms), restarted ${OUTAGE_SECONDS} s later`;
        })();
      },
    });
    const first = await runP;
    const what = await outage;
    runs.push(first);
    const done = first.code === 0 || (await completeRuns(env, runs));
    // --once promises "everything is delivered" at exit 0: count then, and again after one more start
    // (which sends what the emergency persistence kept in state/delivery first).
    const atExit = await count(env);
    const spooled = spoolFiles(env.dir).length;
    let t = atExit;
    if (atExit.lost > 0 || spooled > 0) {
      runs.push(await runApp(env));
      t = await count(env);
    }
    rows.push({
      vendor: adapter.name, scenario: `receiver down ${OUTAGE_SECONDS} s`, detail: what, runs: exitCodes(runs), lost: t.lost, duplicates: t.duplicates,
      bound: '≤ unacknowledged window', errorLine: firstProblem(runs, /Output|connect|ECONNREFUSED|610/i) || '(none)',
      verdict: done && t.lost === 0 && atExit.lost === 0 ? 'pass' : 'FAIL',
      note: atExit.lost > 0
        ? `${atExit.lost} event(s) undelivered when --once exited ${first.code} (${spooled} spool file(s) in state/delivery); the next start ${t.lost === 0 ? 'sent them' : `still missed ${t.lost}`}`
        : first.code === 0 ? 'the same --once run waited and finished' : 'the first run gave up; reran',
    });
    log(`${adapter.name} outage: ${exitCodes(runs)} lost ${t.lost} dup ${t.duplicates}`);
  } finally {
    await teardown(env);
  }
}

/** The vendor faults of the chaos run, in the simulators' one fault API, and how a log line names each. */
const VENDOR_FAULTS: { label: string; fault: SimulatorFault; pattern: RegExp }[] = [
  { label: 'HTTP 429', fault: { kind: 'throttle' }, pattern: /429|throttl|rate/i },
  { label: 'HTTP 500', fault: { kind: 'status', status: 500 }, pattern: /500|server error|retry/i },
  { label: 'timeout (hang, connection dropped)', fault: { kind: 'drop', afterMs: 3_000 }, pattern: /timeout|timed out|socket|ECONNRESET|network|terminated|closed/i },
  { label: 'truncated / non-JSON body', fault: { kind: 'garbage' }, pattern: /JSON|parse|body|unexpected|garbage|not valid/i },
  { label: 'token expired mid-paging', fault: { kind: 'expire-tokens' }, pattern: /token/i },
];

async function vendorFaults(adapter: VendorAdapter, pki: Pki, probe: VendorScenario): Promise<void> {
  for (const { label, fault, pattern } of VENDOR_FAULTS) {
    if (!probe.faults?.supports(fault.kind)) {
      rows.push({ vendor: adapter.name, scenario: label, detail: 'no such fault for this vendor/simulator', runs: '–', lost: 0, duplicates: 0, bound: '–', errorLine: '', verdict: 'n/a' });
      continue;
    }
    for (let i = 0; i < REPEAT; i++) {
      const env = await setup(adapter, pki);
      try {
        const after = randInt(1, 8);
        const times = fault.kind === 'expire-tokens' ? 1 : randInt(1, 3);
        env.scenario.faults!.inject({ ...fault, times, after, on: env.scenario.faultEndpoint });
        const runs = [await runApp(env)];
        const done = runs[0]!.code === 0 || (await completeRuns(env, runs));
        const t = await count(env);
        const line = firstProblem(runs, pattern) || firstProblem(runs);
        rows.push({
          vendor: adapter.name, scenario: label, detail: `${times}× after ${after} data requests`, runs: exitCodes(runs), lost: t.lost, duplicates: t.duplicates,
          bound: '0', errorLine: line || '(none)', verdict: done && t.lost === 0 && t.duplicates === 0 && line !== '' ? 'pass' : 'FAIL',
          ...(line === '' ? { note: 'no warning/error line for the fault' } : {}),
        });
        log(`${adapter.name} ${fault.kind}: ${exitCodes(runs)} lost ${t.lost} dup ${t.duplicates}`);
      } finally {
        await teardown(env);
      }
    }
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * state/ on a 64 KiB tmpfs, filled by another file to all but FREE_BYTES: the state save fails with ENOSPC
 * once the state outgrows that. Then the filler is deleted (an operator freeing space) and --once rerun.
 */
const FREE_BYTES = 16_384;
async function diskFull(adapter: VendorAdapter, pki: Pki): Promise<void> {
  if (!isRoot()) {
    rows.push({ vendor: adapter.name, scenario: 'disk full (state)', detail: 'needs root for a tmpfs mount', runs: '–', lost: 0, duplicates: 0, bound: '–', errorLine: '', verdict: 'n/a' });
    return;
  }
  const env = await setup(adapter, pki);
  const stateDir = join(env.dir, 'state');
  const filler = join(stateDir, 'filler.bin');
  execFileSync('mkdir', ['-p', stateDir]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', stateDir]);
  let mounted = true;
  try {
    const { bavail, bsize } = statfsSync(stateDir);
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - FREE_BYTES)));
    const runs = [await runApp(env)];
    // Free the disk: the operator moves state/ to a volume with room (everything but the filler is kept).
    rmSync(filler, { force: true });
    const kept = mkdtempSync(join(tmpdir(), 'chaos-state-'));
    cpSync(stateDir, kept, { recursive: true });
    execFileSync('umount', [stateDir]);
    mounted = false;
    cpSync(kept, stateDir, { recursive: true });
    rmSync(kept, { recursive: true, force: true });
    const done = runs[0]!.code === 0 || (await completeRuns(env, runs));
    const t = await count(env);
    const line = firstProblem(runs, /ENOSPC|space|disk|state|Persistence/i);
    rows.push({
      vendor: adapter.name, scenario: 'disk full (state on a 64 KiB tmpfs)', detail: `${FREE_BYTES} bytes free during the first run, then state/ moved to a disk with room and --once rerun`, runs: exitCodes(runs),
      lost: t.lost, duplicates: t.duplicates, bound: 're-pull since the last saved checkpoint', errorLine: line || '(none)',
      verdict: done && t.lost === 0 && line !== '' ? 'pass' : 'FAIL',
    });
    log(`${adapter.name} disk-full: ${exitCodes(runs)} lost ${t.lost} dup ${t.duplicates}`);
  } finally {
    if (mounted) execFileSync('umount', ['-l', stateDir]);
    await teardown(env);
  }
}

/** Files of the SDK's emergency persistence (state/delivery): events acknowledged but not yet sent. */
function spoolFiles(dir: string): string[] {
  const spool = join(dir, 'state', 'delivery');
  return existsSync(spool) ? readdirSync(spool).filter((f) => f.endsWith('.jsonl')) : [];
}

function stateFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json')) out.push(p);
    }
  };
  walk(join(dir, 'state'));
  return out;
}

/** A crash, then the state file damaged (truncated half-way), then restarts. */
async function corruptState(adapter: VendorAdapter, pki: Pki): Promise<void> {
  for (let i = 0; i < REPEAT; i++) {
    const env = await setup(adapter, pki);
    try {
      const runs = [await runApp(env, killAtProgress(env, randInt(30, 80) / 100))];
      const files = stateFiles(env.dir).filter((f) => !f.includes(`${join('state', 'delivery')}`));
      for (const f of files) {
        const text = readFileSync(f, 'utf8');
        writeFileSync(f, text.slice(0, Math.floor(text.length / 2)));
      }
      const done = await completeRuns(env, runs);
      const t = await count(env);
      const line = firstProblem(runs.slice(1), /corrupt|state|Persistence|50\d/i);
      rows.push({
        vendor: adapter.name, scenario: 'corrupt state file at start', detail: `killed at ${Math.round(runs[0]!.killedAtMs ?? 0)} ms, ${files.length} state file(s) truncated`,
        runs: exitCodes(runs), lost: t.lost, duplicates: t.duplicates, bound: 're-pull from the configured start', errorLine: line || '(none)',
        verdict: done && t.lost === 0 && line !== '' ? 'pass' : 'FAIL',
        ...(files.length === 0 ? { note: 'no state file existed yet at the kill' } : {}),
      });
      log(`${adapter.name} corrupt-state: ${exitCodes(runs)} lost ${t.lost} dup ${t.duplicates}`);
    } finally {
      await teardown(env);
    }
  }
}

function report(startedAt: Date, seconds: number, adapters: VendorAdapter[]): string {
  const m = machineDescription();
  const out: string[] = ['# Reliability: fault injection', ''];
  out.push('Generated by `pnpm chaos` (`tooling/bench/src/chaos.ts`); rerun it to refresh this file.', '');
  out.push(`- Date: ${startedAt.toISOString()} (whole run: ${Math.round(seconds)} s)`);
  out.push(`- Machine: ${m.cpu}, ${m.memory} RAM; ${m.os}; Node ${m.node}; load average at the end ${m.load}`);
  out.push(`- Command: \`node tooling/bench/dist/chaos.js --events ${EVENTS} --repeat ${REPEAT} --outage-seconds ${OUTAGE_SECONDS} --kill-trials ${KILL_TRIALS} --start-trials ${START_TRIALS} --down-at-start-seconds ${DOWN_AT_START_SECONDS} --seed ${SEED}${args.only ? ` --only ${args.only}` : ''}${args.scenarios ? ` --scenarios ${args.scenarios}` : ''}\``);
  out.push(`- Collectors: ${adapters.map((a) => a.name).join(', ')} (each its built app \`apps/<vendor>/dist/main.js --once\`, filesystem state)`);
  out.push(`- Random timings come from seed ${SEED} (pass \`--seed\` to replay the same choices).`, '');
  out.push('## Method', '');
  out.push(`Every scenario starts a fresh simulator with ${EVENTS} events of known identity and a fresh rsyslog TLS receiver`);
  out.push('that keeps every line. After the fault, `--once` is rerun until it exits 0 (at most 6 times: what a supervisor');
  out.push('or the daemon\'s next cycle does). Then every received line is parsed, and each ground-truth id (Lark');
  out.push('`unique_id`, Darktrace `pbid`, ...) is counted: **lost** = never received, **duplicates** = extra copies.');
  out.push('"Error line" is the first warning/error the collector printed that names the fault. Exit codes of the');
  out.push('consecutive runs are shown as `killed → 0`.', '');
  out.push(`- kill -9: ${KILL_TRIALS} crashes per collector, the three ways of choosing the moment in turn: once a random share (1–95 %) of the events arrived,`);
  out.push('  a random 0–200 ms after a pull log line, a random 0–20 ms after a window/statistics (commit) log line.');
  out.push(`  The phase column is read from the last log line before the kill. Bound: one delivery batch (${DELIVERY_BATCH} events, the SDK's write batch) per crash,`);
  out.push('  also where a checkpoint window is smaller (a batch carries on into the next window): the SDK journals the keys of every');
  out.push('  acknowledged batch, so only the batch in flight may arrive twice. AWS SQS: the messages in flight (it keeps no journal: the queue redelivers).');
  out.push(`- Receiver down at start: rsyslog stopped before \`--once\` starts and restarted ${DOWN_AT_START_SECONDS} s after the spawn, ${START_TRIALS} runs per collector;`);
  out.push('  pass = every run exits 0 with every event delivered exactly once (the bug: exit 13 when the event loop emptied mid-retry).');
  out.push('- Refused client certificate / untrusted server certificate: `--once` with the rogue self-signed client certificate, or with it');
  out.push('  as `chain` (the server\'s certificate then does not verify); pass = exit 1 within 30 s, no stack trace, the error ID with its remedy,');
  out.push('  0 events delivered, and the rerun in the same working directory with the right certificates exits 0 with every event once.');
  out.push('- SIGTERM during a receiver outage: rsyslog stopped once the first lines arrived, SIGTERM 1–3 s later; pass = exit 0 within 10 s');
  out.push('  of the signal (the receiver is still down then: it is restarted after the exit), and the next start delivers everything.');
  out.push(`- Receiver down: rsyslog stopped (SIGTERM) a random 0–500 ms after the first line arrived, kept down ${OUTAGE_SECONDS} s`);
  out.push('  (`--outage-seconds`), restarted on the same port. Lost events are counted when that `--once` run exits (it');
  out.push('  promises delivery) and, if any are missing, again after one more start (which sends the emergency spool).');
  out.push('- Vendor faults: the simulators\' one fault API (`sim.faults.inject`), 1–3 faulty answers after 1–8 normal data');
  out.push('  requests (mid-paging; Graph pages of 500 rows instead of 5000 so that there is paging to interrupt).');
  out.push('- Disk full: `state/` is a 64 KiB tmpfs filled to all but 16 KiB during the first run (room for the first saves, not for the state of a whole run); then its content (state, temp and emergency files) is moved to');
  out.push('  a disk with room, as an operator would, and `--once` rerun.');
  out.push('- Corrupt state: kill -9 once 30–80 % of the events arrived, every state file truncated to half, then restarts.');
  out.push('- AWS SQS (moto): each kill mode once; a killed run\'s messages stay invisible for the collector\'s 120 s');
  out.push('  visibility timeout, so `--once` is rerun until the queue is empty (up to 200 s). moto has no fault injection.', '');
  out.push('## Results', '');
  out.push('| collector | scenario | detail | exit codes | lost | duplicates | allowed | error line | verdict |');
  out.push('|---|---|---|---|---:|---:|---|---|---|');
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  for (const r of rows) {
    out.push(`| ${r.vendor} | ${esc(r.scenario)} | ${esc(r.detail)}${r.note ? ` (${esc(r.note)})` : ''} | ${r.runs} | ${r.lost} | ${r.duplicates} | ${esc(r.bound)} | ${r.errorLine ? `\`${esc(r.errorLine)}\`` : ''} | ${r.verdict === 'FAIL' ? '**FAIL**' : r.verdict} |`);
  }
  if (killSummaries.length > 0) {
    out.push('', '### kill -9: duplicates per crash against the one-batch bound', '');
    out.push('| collector | trials | crashes (killed before the end) | max duplicates per crash | mean | crashes within the bound | bound |');
    out.push('|---|---:|---:|---:|---:|---:|---|');
    for (const k of [...killSummaries].sort((a, b) => a.vendor.localeCompare(b.vendor))) {
      out.push(`| ${k.vendor} | ${k.trials} | ${k.crashes} | ${k.maxDuplicates} | ${k.meanDuplicates.toFixed(1)} | ${k.within} of ${k.crashes} | ${esc(k.bound)} |`);
    }
  }
  const fails = rows.filter((r) => r.verdict === 'FAIL');
  out.push('', '## Summary', '');
  out.push(`${rows.filter((r) => r.verdict === 'pass').length} passed, ${fails.length} failed, ${rows.filter((r) => r.verdict === 'n/a').length} not applicable.`);
  out.push(`Events lost in total: ${rows.reduce((n, r) => n + r.lost, 0)}.`, '');
  return out.join('\n');
}

const startedAt = new Date();
const t0 = performance.now();
const adapters = selectedAdapters().filter((a) => {
  if (existsSync(appMain(a.name))) return true;
  log(`${a.name}: ${appMain(a.name)} missing; build first`);
  return false;
});
log(`seed ${SEED}, ${EVENTS} events, repeat ${REPEAT}, outage ${OUTAGE_SECONDS} s`);
const pki = await generatePki();
// The receiver outages mostly wait: run them for every collector at once, beside the rest.
const outages = selected.has('receiver-outage') ? Promise.all(adapters.flatMap((a) => Array.from({ length: Math.min(REPEAT, 2) }, () => receiverOutage(a, pki)))) : Promise.resolve([]);
// Receiver down at start mostly waits too: one sequence of trials per collector, beside the rest.
const startDowns = selected.has('down-at-start') ? Promise.all(adapters.map((a) => downAtStart(a, pki))) : Promise.resolve([]);
async function vendorSequence(adapter: VendorAdapter): Promise<void> {
  const probe = await adapter.start({ events: 10 });
  await probe.close();
  if (selected.has('baseline')) await baseline(adapter, pki);
  if (selected.has('kill9')) await kill9(adapter, pki);
  if (selected.has('refused')) await refusedRuns(adapter, pki);
  if (selected.has('sigterm-outage')) await sigtermOutage(adapter, pki);
  if (selected.has('vendor-faults')) await vendorFaults(adapter, pki, probe);
  if (selected.has('disk-full') && !adapter.stateless) await diskFull(adapter, pki);
  if (selected.has('corrupt-state') && !adapter.stateless) await corruptState(adapter, pki);
  if (adapter.stateless && (selected.has('disk-full') || selected.has('corrupt-state'))) {
    rows.push({ vendor: adapter.name, scenario: 'disk full / corrupt state', detail: 'the collector keeps no state file (the queue is its state)', runs: '–', lost: 0, duplicates: 0, bound: '–', errorLine: '', verdict: 'n/a' });
  }
}
// Pull collectors one after the other; queue collectors (each crash waits out a 120 s visibility timeout)
// beside them.
const queued = Promise.all(adapters.filter((a) => a.stateless).map((a) => vendorSequence(a)));
for (const adapter of adapters.filter((a) => !a.stateless)) await vendorSequence(adapter);
await queued;
await outages;
await startDowns;
rows.sort((a, b) => a.vendor.localeCompare(b.vendor));
const text = report(startedAt, (performance.now() - t0) / 1000, adapters);
writeReport(args.out, text);
log(`wrote ${args.out}`);
process.stdout.write(text);
await shutdownAdapters();
// A child a scenario left behind must not keep the harness alive.
process.exit(rows.some((r) => r.verdict === 'FAIL') ? 1 : 0);
