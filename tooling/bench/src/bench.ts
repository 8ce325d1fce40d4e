#!/usr/bin/env node
// `pnpm bench`: each collector's built app, as a daemon, against its simulator at zero latency, delivering to
// rsyslog over TLS; the bare Node TLS writer to the same rsyslog in the same run as the ceiling. Writes
// docs/benchmarks.md. Not a test: nothing here asserts a time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isVendorEventLine, startRsyslog, VENDOR_NAMES, type Rsyslog } from '@collector/testkit';
import { cliMistake, parseCli } from '@collector/testkit/cli';
import { machineDescription } from './lib/machine.js';
import { writeReport } from './lib/report-file.js';
import { outputsFor } from './lib/output.js';
import { appMain, REPO_ROOT } from './lib/paths.js';
import { runNode } from './lib/run-child.js';
import type { BareLoopInput } from './lib/bare-loop.js';
import { tally } from './lib/tally.js';
import { syntheticLines, tlsCeiling } from './lib/tls-ceiling.js';
import { makeWorkDir, setExtraGlobals } from './lib/workdir.js';
import { selectAdapters, shutdownAdapters, type VendorAdapter } from './vendors/index.js';
import { runExternalBenches, type ExternalBench } from './external.js';

const args = parseCli('node tooling/bench/dist/bench.js', 'Each collector\'s built app as a daemon against its simulator, delivering to rsyslog over TLS, with the bare loop and the TLS ceiling in the same run; writes a Markdown report.', {
  events: { type: 'string', default: '100000', help: 'events per throughput run' },
  'startup-events': { type: 'string', default: '2000', help: 'events of each start-up run' },
  runs: { type: 'string', default: '2', help: 'throughput runs per collector (the report takes medians)' },
  only: { type: 'string', help: `comma-separated collectors: ${VENDOR_NAMES.join(', ')}` },
  out: { type: 'string', default: join(REPO_ROOT, 'docs', 'benchmarks.md'), help: 'the report written' },
  'skip-external': { type: 'boolean', default: false, help: 'skip the peers (Devo\'s Python SDK sender and the other external benches)' },
  'apps-root': { type: 'string', help: 'the root of another checkout whose built apps are measured instead' },
  baseline: { type: 'string', help: 'the root of a checkout built from an earlier commit: each run measures it too, right before this build, against the same data and receiver (the before/after table)' },
  'cpu-prof': { type: 'string', help: 'writes a V8 CPU profile of each collector run into this directory (node --cpu-prof)' },
  'idle-seconds': { type: 'string', default: '3', help: 'seconds a caught-up collector idles before its idle RSS is read' },
  'idle-dump': { type: 'string', help: 'keeps each idle daemon\'s /proc/<pid>/smaps, loaded built-ins and a V8 heap snapshot in this directory' },
  globals: { type: 'string', help: 'a JSON object merged into every collector\'s globals (the baseline\'s too: a key it does not know is only a warning there), e.g. \'{"delivery_batch_max_messages":4000}\'' },
});
/** The collectors of --only; a name the registry does not know is a usage mistake (one line, exit 2). */
function selectedAdapters(): VendorAdapter[] {
  try {
    return selectAdapters(args.only);
  } catch (error) {
    return cliMistake('node tooling/bench/dist/bench.js', (error as Error).message);
  }
}
const SELECTED = selectedAdapters();
if (args.globals) setExtraGlobals(JSON.parse(args.globals) as Record<string, unknown>);
const APPS_ROOT = args['apps-root'] ? resolve(args['apps-root']) : REPO_ROOT;
const BASELINE_ROOT = args.baseline ? resolve(args.baseline) : undefined;
const IDLE_MS = Number(args['idle-seconds']) * 1000;
const IDLE_DUMP = args['idle-dump'] ? resolve(args['idle-dump']) : undefined;
const BARE_LOOP = fileURLToPath(new URL('./lib/bare-loop.js', import.meta.url));
const EVENTS = Number(args.events);
const STARTUP_EVENTS = Number(args['startup-events']);
const RUNS = Math.max(1, Number(args.runs));

interface Measured {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  mbPerSecond: number;
  cpuSecondsPerMillion: number;
  /**
   * CPU time of the process when rsyslog had counted its last event, per million events: the run without what
   * comes after it (the idle collection a second after the catch-up, the SIGUSR2 memory report, the stop).
   */
  cpuToLastEventSecondsPerMillion: number;
  peakRssMiB: number;
  /** RSS of the daemon a few seconds after it caught up (all events counted by rsyslog). */
  idleRssMiB: number;
  /** `process.memoryUsage()` of the idle daemon (MiB): heap, external, array buffers. */
  idleMemory?: Record<string, number>;
  /** The idle daemon's resident pages by who pays for them (`/proc/<pid>/smaps_rollup`, MiB). */
  idlePages?: IdlePages;
  /** The bare fetch-and-send loop on the same pages, same receiver, right after. */
  bare?: { events: number; eventsPerSecond: number; cpuSecondsPerMillion: number; peakRssMiB: number };
  /** The harness's own peak RSS from the collector's spawn to its last event counted (MiB). */
  harnessPeakMiB?: number;
}

interface VendorResult {
  vendor: string;
  startupMs: number[];
  bytesPerEvent: number;
  sanity: string;
  runs: Measured[];
  /** The baseline build's runs (`--baseline`), each right before the matching run of this build. */
  baselineRuns: Measured[];
  ceiling: { eventsPerSecond: number; mbPerSecond: number }[];
  error?: string;
  /** Measured by another benchmark (its report). */
  elsewhere?: string;
  /** This harness's own peak RSS (MiB) while it benched this collector: simulators, tallies, the ceiling's payload. */
  harnessPeakMiB?: number;
  /** Its peak while a collector ran (from spawn to the last event counted): what shares the cores with it. */
  harnessRunPeakMiB?: number;
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : Number.NaN;
};

/**
 * Start-up: a small run against a receiver that keeps every line; the time from spawning the process to the
 * first vendor event written by rsyslog. The same run gives the wire size of an event and a correctness check.
 */
async function startupRun(adapter: VendorAdapter): Promise<{ ms: number; bytesPerEvent: number; sanity: string }> {
  const rsyslog = await startRsyslog();
  const scenario = await adapter.start({ events: STARTUP_EVENTS });
  try {
    const { dir, configFile } = makeWorkDir(adapter.name, scenario.config({ outputs: outputsFor(rsyslog) }));
    const started = performance.now();
    let firstMs = Number.NaN;
    const poll = setInterval(() => {
      if (!Number.isNaN(firstMs)) return;
      if (rsyslog.lines().some(isVendorEventLine)) firstMs = performance.now() - started;
    }, 5);
    const child = await runNode(appMain(adapter.name, APPS_ROOT), ['--once', '--config', configFile], { cwd: dir, timeoutMs: 120_000 });
    const truth = scenario.truth();
    const deadline = Date.now() + 10_000;
    let lines = rsyslog.lines();
    while (tally(lines, truth, scenario.identity).delivered < truth.size && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      lines = rsyslog.lines();
    }
    clearInterval(poll);
    if (Number.isNaN(firstMs)) firstMs = Number.NaN;
    if (child.code !== 0) throw new Error(`exit ${child.code}: ${child.stdout.slice(-1500)}${child.stderr.slice(-500)}`);
    const vendorLines = lines.filter(isVendorEventLine);
    // Wire bytes: the line plus its LF (or octet-count prefix); rsyslog strips the framing.
    const bytes = vendorLines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const t = tally(lines, truth, scenario.identity);
    return { ms: firstMs, bytesPerEvent: bytes / Math.max(1, vendorLines.length), sanity: `${t.delivered}/${truth.size} delivered, ${t.lost} lost, ${t.duplicates} duplicated` };
  } finally {
    await scenario.close();
    await rsyslog.stop();
  }
}

/** The big run: N events, countOnly receiver, timed from spawn until rsyslog counted every event. */
async function throughputRun(adapter: VendorAdapter, rsyslog: Rsyslog, bytesPerEvent: number, root = APPS_ROOT): Promise<Measured> {
  const scenario = await adapter.start({ events: EVENTS });
  try {
    const truth = scenario.truth();
    const { dir, configFile } = makeWorkDir(adapter.name, scenario.config({ outputs: outputsFor(rsyslog) }));
    const before = rsyslog.count();
    const started = performance.now();
    // As a daemon (the next pull an hour away): the clock stops when rsyslog counted every event; the idle
    // RSS is read a few seconds later; SIGTERM then stops it the way an operator does.
    let pid: number | undefined;
    let exited = false;
    const nodeArgs = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(args['cpu-prof']), '--cpu-prof-name', `${adapter.name}-${Date.now()}.cpuprofile`] : [];
    const dumpName = `${adapter.name}-${root === APPS_ROOT ? 'after' : 'before'}-${Date.now()}`;
    if (IDLE_DUMP) mkdirSync(IDLE_DUMP, { recursive: true });
    const env = IDLE_DUMP ? { BENCH_HEAP_SNAPSHOT: join(IDLE_DUMP, `${dumpName}.heapsnapshot`) } : undefined;
    harnessPeak.lap();
    const running = runNode(appMain(adapter.name, root), ['--config', configFile], { cwd: dir, timeoutMs: 600_000, nodeArgs, env, onSpawn: (p) => (pid = p) });
    void running.then(() => (exited = true));
    const deadline = Date.now() + 600_000;
    while (!exited && rsyslog.count() - before < truth.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - started) / 1000;
    const harnessPeakMiB = harnessPeak.lap();
    const cpuToLastEventMs = exited ? Number.NaN : processCpuMs(pid);
    const counted = rsyslog.count() - before;
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idleRssMiB = exited ? Number.NaN : rssMiB(pid);
    const idlePages = exited ? undefined : residentPages(pid);
    // (copyFileSync reads nothing from /proc: its files have no size)
    if (IDLE_DUMP && !exited) writeFileSync(join(IDLE_DUMP, `${dumpName}.smaps`), readFileSync(`/proc/${pid}/smaps`));
    if (!exited && pid !== undefined) {
      process.kill(pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, IDLE_DUMP ? 5_000 : 200));
      process.kill(pid, 'SIGTERM');
    }
    const child = await running;
    const memory = /BENCH_MEMORY (\{.*\})/.exec(child.stderr);
    if (child.code !== 0) throw new Error(`exit ${child.code}: ${child.stdout.slice(-1500)}${child.stderr.slice(-500)}`);
    if (counted < truth.size) throw new Error(`rsyslog counted ${counted} of ${truth.size}`);
    const measured: Measured = {
      events: truth.size,
      seconds,
      eventsPerSecond: truth.size / seconds,
      mbPerSecond: (truth.size * bytesPerEvent) / 1e6 / seconds,
      cpuSecondsPerMillion: (child.cpuMs / 1000) * (1e6 / truth.size),
      cpuToLastEventSecondsPerMillion: (cpuToLastEventMs / 1000) * (1e6 / truth.size),
      peakRssMiB: child.maxRssKb / 1024,
      idleRssMiB,
      idleMemory: memory ? (JSON.parse(memory[1]!) as Record<string, number>) : undefined,
      idlePages,
      harnessPeakMiB,
    };
    const plan = await scenario.barePlan?.();
    if (plan) measured.bare = await bareRun(rsyslog, { plan, receiver: { host: rsyslog.host, port: rsyslog.port, ...rsyslog.pki } });
    return measured;
  } finally {
    await scenario.close();
  }
}

/**
 * RSS counts every page mapped, also the pages of the `node` executable that every Node process on the host
 * shares through the page cache (five collectors on one host, or five pods from one image, pay for them once).
 * `private` is what this process alone holds (USS); `pss` shares each shared page among its users.
 */
interface IdlePages {
  pss: number;
  private: number;
  shared: number;
  /** Resident pages by mapping (`/proc/<pid>/smaps`): the `node` executable, glibc's main heap, anonymous
   * mappings (V8's heap, thread stacks and malloc arenas), shared libraries and other files. */
  byMapping?: { binary: number; heap: number; anonymous: number; libraries: number; other: number };
}

function residentByMapping(pid: number): IdlePages['byMapping'] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = { binary: 0, heap: 0, anonymous: 0, libraries: 0, other: 0 };
  let into: keyof typeof kb = 'other';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1]!;
      into = path === '' || path.startsWith('[anon') || path === '[stack]' ? 'anonymous' : path === '[heap]' ? 'heap' : /(^|\/)node$/.test(path) ? 'binary' : /\.so(\.|$)/.test(path) ? 'libraries' : 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kb[into] += Number(rss[1]);
  }
  const mib = (n: number) => n / 1024;
  return { binary: mib(kb.binary), heap: mib(kb.heap), anonymous: mib(kb.anonymous), libraries: mib(kb.libraries), other: mib(kb.other) };
}

function residentPages(pid: number | undefined): IdlePages | undefined {
  if (pid === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    pss: kb('Pss') / 1024,
    private: (kb('Private_Clean') + kb('Private_Dirty')) / 1024,
    shared: (kb('Shared_Clean') + kb('Shared_Dirty')) / 1024,
    byMapping: residentByMapping(pid),
  };
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU time of a running process (all its threads) so far, ms (`/proc/<pid>/stat`, clock ticks). */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last ')'): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** VmRSS of a running process, MiB. */
function rssMiB(pid: number | undefined): number {
  const m = pid === undefined ? null : /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** The bare fetch-and-send loop (`lib/bare-loop.ts`) in its own process, timed the same way as the collector. */
async function bareRun(rsyslog: Rsyslog, input: BareLoopInput): Promise<NonNullable<Measured['bare']>> {
  const file = join(tmpdir(), `bench-bare-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(input));
  const before = rsyslog.count();
  const started = performance.now();
  const child = await runNode(BARE_LOOP, [file], { timeoutMs: 600_000 });
  if (child.code !== 0) throw new Error(`bare loop exit ${child.code}: ${child.stderr.slice(-800)}`);
  const sent = Number(/BARE_SENT (\d+)/.exec(child.stdout)?.[1] ?? Number.NaN);
  const deadline = Date.now() + 30_000;
  while (rsyslog.count() - before < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (rsyslog.count() - before < sent) throw new Error(`bare loop: rsyslog counted ${rsyslog.count() - before} of ${sent}`);
  const seconds = (performance.now() - started) / 1000;
  return { events: sent, eventsPerSecond: sent / seconds, cpuSecondsPerMillion: (child.cpuMs / 1000) * (1e6 / sent), peakRssMiB: child.maxRssKb / 1024 };
}

/**
 * The harness's own peak RSS, per collector and per collector run. Writing 5 to /proc/self/clear_refs resets
 * this process's VmHWM (Linux ≥ 4.0); `lap` reads the peak since the last lap and starts a new one, and
 * `overall` keeps the largest lap since `start`.
 */
const harnessPeak = {
  overall: 0,
  read(): number {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
      return m ? Number(m[1]) / 1024 : Number.NaN;
    } catch {
      return Number.NaN;
    }
  },
  lap(): number {
    const peak = this.read();
    this.overall = Math.max(this.overall, peak);
    try {
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      // not Linux, or not allowed: each figure is then the peak since the harness started
    }
    return peak;
  },
  start(): void {
    this.lap();
    this.overall = 0;
  },
};

async function benchVendor(adapter: VendorAdapter): Promise<VendorResult> {
  harnessPeak.start();
  const result = await benchVendorRuns(adapter);
  if (!result.elsewhere) {
    harnessPeak.lap();
    result.harnessPeakMiB = harnessPeak.overall;
    result.harnessRunPeakMiB = Math.max(...[...result.baselineRuns, ...result.runs].map((r) => r.harnessPeakMiB ?? Number.NaN));
    log(`${adapter.name}: the harness's own peak RSS ${fmt(result.harnessPeakMiB)} MiB (${fmt(result.harnessRunPeakMiB)} while a collector ran)`);
  }
  return result;
}

async function benchVendorRuns(adapter: VendorAdapter): Promise<VendorResult> {
  const result: VendorResult = { vendor: adapter.name, startupMs: [], bytesPerEvent: Number.NaN, sanity: '', runs: [], baselineRuns: [], ceiling: [] };
  if (adapter.benchedElsewhere) {
    result.elsewhere = adapter.benchedElsewhere;
    return result;
  }
  if (!existsSync(appMain(adapter.name, APPS_ROOT))) {
    result.error = `${appMain(adapter.name, APPS_ROOT)} missing (build first: pnpm build)`;
    return result;
  }
  try {
    for (let i = 0; i < RUNS; i++) {
      log(`${adapter.name}: start-up run ${i + 1}/${RUNS} (${STARTUP_EVENTS} events)`);
      const s = await startupRun(adapter);
      result.startupMs.push(s.ms);
      result.bytesPerEvent = s.bytesPerEvent;
      result.sanity = s.sanity;
    }
    const rsyslog = await startRsyslog({ countOnly: true });
    try {
      const lines = syntheticLines(EVENTS, Math.round(result.bytesPerEvent - 1));
      for (let i = 0; i < RUNS; i++) {
        log(`${adapter.name}: throughput run ${i + 1}/${RUNS} (${EVENTS} events), then the bare loop and the ceiling`);
        const describe = (label: string, run: Measured) =>
          log(`${adapter.name} ${label}: ${fmt(run.eventsPerSecond)} events/s (${fmt(run.bare ? run.eventsPerSecond / run.bare.eventsPerSecond : Number.NaN, 2)} × bare loop), ${fmt(run.cpuSecondsPerMillion, 1)} CPU s/M (${fmt(run.cpuToLastEventSecondsPerMillion, 1)} to the last event), peak ${fmt(run.peakRssMiB)} MiB, idle ${fmt(run.idleRssMiB)} MiB (harness peak ${fmt(run.harnessPeakMiB ?? Number.NaN)} MiB meanwhile) ${JSON.stringify(run.idleMemory ?? {})} ${JSON.stringify(run.idlePages ?? {}, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
        if (BASELINE_ROOT) {
          const before = await throughputRun(adapter, rsyslog, result.bytesPerEvent, BASELINE_ROOT);
          describe('baseline', before);
          result.baselineRuns.push(before);
        }
        const run = await throughputRun(adapter, rsyslog, result.bytesPerEvent);
        describe('this build', run);
        result.runs.push(run);
        result.ceiling.push(await tlsCeiling(rsyslog, lines));
      }
    } finally {
      await rsyslog.stop();
    }
  } catch (error) {
    result.error = (error as Error).message;
    log(`${adapter.name}: FAILED ${result.error}`);
  }
  return result;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

function report(results: VendorResult[], externals: ExternalBench[], startedAt: Date, totalSeconds: number): string {
  const m = machineDescription();
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push('Generated by `pnpm bench` (`tooling/bench/src/bench.ts`); rerun it to refresh this file. Every figure is a median of');
  out.push(`${RUNS} run(s) in the same session; the machine is shared and noisy, so read the **ratios to the ceiling**, not the absolute numbers.`, '');
  out.push(`- Date: ${startedAt.toISOString()} (whole bench: ${fmt(totalSeconds)} s)`);
  out.push(`- Machine: ${m.cpu}, ${m.memory} RAM; ${m.os}; Node ${m.node}`);
  out.push(`- Load average at the end: ${m.load}`);
  const given = process.argv.slice(2).join(' ');
  out.push(`- Command: \`node tooling/bench/dist/bench.js${given ? ` ${given}` : ''}\` after \`pnpm build\` (\`pnpm bench\` runs it without options: ${fmt(EVENTS)} events, ${RUNS} runs)`, '');
  out.push('## What runs', '');
  out.push('Each collector is its built app, `apps/<vendor>/dist/main.js --config <file>` (a daemon) launched as its shebang says');
  out.push('(Node flags and environment: `src/lib/run-child.ts`; the harness environment is passed on, less the shell `NODE_EXTRA_CA_CERTS`), in its own process with filesystem state, pulling from its simulator on 127.0.0.1 (zero latency, no rate limit, deterministic events) and');
  out.push('delivering through the SDK\'s `devo_platform` output to rsyslog 8 over TLS 1.3 with a client certificate');
  out.push('(`@collector/testkit` `startRsyslog`, countOnly mode: one byte stored per message, so the disk is not measured).');
  out.push('The clock runs from spawning the process until rsyslog has counted every event (start-up, token, pulling,');
  out.push('encoding, TLS, acknowledgement and the final state save included). CPU time and peak RSS are the collector');
  out.push('process\'s own (`process.resourceUsage()` at exit, via a `--import` probe), not the simulator\'s or rsyslog\'s.');
  out.push('"CPU s / M to the last event" is the same process\'s CPU time (`/proc/<pid>/stat`) read when rsyslog counted the');
  out.push('last event: without the idle collection, the memory report and the stop that follow (start-up is in both).');
  out.push('The simulator runs in the harness process and shares the 2 cores.', '');
  out.push('**Ceiling**: in the same session, after each collector run, a bare Node TLS socket writes the same number of');
  out.push('pre-built lines of the collector\'s average wire size to the same rsyslog (`src/lib/tls-ceiling.ts`). That is the');
  out.push('most this receiver takes from one Node connection here; "% of ceiling" is the collector\'s events/s over it.', '');
  out.push('**Bare loop**: right after each collector run, `src/lib/bare-loop.ts` in its own process fetches the same pages');
  out.push('the collector fetched (same URLs and authentication, from the same simulator), parses each, and writes one line');
  out.push('per event (`JSON.stringify` of the record) over one TLS connection to the same rsyslog: what a user writes without');
  out.push('the SDK (no dedup, state, acknowledgement or pipelining). "× bare loop" is the collector\'s events/s over the loop\'s,');
  out.push('per run (both saw the same machine load), then the median.', '');
  out.push(`**RSS**: the collector runs as a daemon (its next pull an hour away); peak RSS is the process\'s maximum`);
  out.push(`resident set at exit; idle RSS is its VmRSS ${IDLE_MS / 1000} s after rsyslog counted the last event, before SIGTERM.`, '');
  out.push('**Start-up**: a separate small run against a receiver that keeps every line: process spawn → the first vendor');
  out.push(`event written by rsyslog (${STARTUP_EVENTS} events; Node start, config, state, token or setup probe, first page, TLS connect).`);
  out.push('The same run gives the wire size of an event and checks that every event arrived exactly once.', '');
  out.push('## Results', '');
  out.push('| collector | events | s | events/s | MB/s | ceiling events/s | % of ceiling | bare loop events/s | **× bare loop** | CPU s / M events | CPU s / M to the last event | bare loop CPU s / M | peak RSS MiB | idle RSS MiB | start-up ms | check |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    if (r.elsewhere) {
      out.push(`| ${r.vendor} | – | – | – | – | – | – | – | – | – | – | – | – | – | – | measured by its own benchmark against moto: [${r.elsewhere}](../${r.elsewhere}) (below) |`);
      continue;
    }
    if (r.error && r.runs.length === 0) {
      out.push(`| ${r.vendor} | – | – | – | – | – | – | – | – | – | – | – | – | – | ${fmt(median(r.startupMs))} | **failed**: ${r.error.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 300)} |`);
      continue;
    }
    const eps = median(r.runs.map((x) => x.eventsPerSecond));
    const ceil = median(r.ceiling.map((x) => x.eventsPerSecond));
    const bare = (f: (b: NonNullable<Measured['bare']>) => number) => median(r.runs.map((x) => (x.bare ? f(x.bare) : Number.NaN)));
    // The ratio of each run to the bare loop run right after it, then the median: both saw the same load.
    const ratio = median(r.runs.map((x) => (x.bare ? x.eventsPerSecond / x.bare.eventsPerSecond : Number.NaN)));
    out.push(
      `| ${r.vendor} | ${fmt(r.runs[0]!.events)} | ${fmt(median(r.runs.map((x) => x.seconds)), 2)} | **${fmt(eps)}** | ${fmt(median(r.runs.map((x) => x.mbPerSecond)), 1)} | ${fmt(ceil)} | **${fmt((eps / ceil) * 100)} %** | ${fmt(bare((b) => b.eventsPerSecond))} | **${fmt(ratio, 2)}** | ${fmt(median(r.runs.map((x) => x.cpuSecondsPerMillion)), 1)} | ${fmt(median(r.runs.map((x) => x.cpuToLastEventSecondsPerMillion)), 1)} | ${fmt(bare((b) => b.cpuSecondsPerMillion), 1)} | ${fmt(median(r.runs.map((x) => x.peakRssMiB)))} | ${fmt(median(r.runs.map((x) => x.idleRssMiB)))} | ${fmt(median(r.startupMs))} | ${r.sanity}${r.error ? `; ${r.error}` : ''} |`,
    );
  }
  out.push('', `Average wire size of an event (syslog header + JSON + LF): ${results.filter((r) => !r.elsewhere).map((r) => `${r.vendor} ${fmt(r.bytesPerEvent)} B`).join(', ')}.`);
  out.push('MB/s = events/s × that size (10^6 bytes).', '');
  const benched = results.filter((r) => r.harnessPeakMiB !== undefined);
  out.push(`The harness's own peak RSS (VmHWM of this process: the simulator with its ${fmt(EVENTS)} events as JSON text, the tallies, the ceiling's pre-built payload), per collector, and in parentheses while a collector ran (spawn to last event): ${benched.map((r) => `${r.vendor} ${fmt(r.harnessPeakMiB!)} (${fmt(r.harnessRunPeakMiB!)}) MiB`).join(', ')}.`, '');
  out.push('### Every run', '');
  out.push('| collector | run | events/s | bare loop events/s | × bare loop | ceiling events/s | ceiling MB/s | CPU s / M events | bare loop CPU s / M | peak RSS MiB | idle RSS MiB | start-up ms |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    r.runs.forEach((x, i) =>
      out.push(
        `| ${r.vendor} | ${i + 1} | ${fmt(x.eventsPerSecond)} | ${fmt(x.bare?.eventsPerSecond ?? Number.NaN)} | ${fmt(x.bare ? x.eventsPerSecond / x.bare.eventsPerSecond : Number.NaN, 2)} | ${fmt(r.ceiling[i]?.eventsPerSecond ?? Number.NaN)} | ${fmt(r.ceiling[i]?.mbPerSecond ?? Number.NaN, 1)} | ${fmt(x.cpuSecondsPerMillion, 1)} | ${fmt(x.bare?.cpuSecondsPerMillion ?? Number.NaN, 1)} | ${fmt(x.peakRssMiB)} | ${fmt(x.idleRssMiB)} | ${fmt(r.startupMs[i] ?? Number.NaN)} |`,
      ),
    );
  }
  if (results.some((r) => r.baselineRuns.length > 0)) {
    out.push('', `### Before and after (\`--baseline ${args.baseline}\`)`, '');
    out.push('Each run measured the baseline build, then this build, each followed by its own bare loop, against the same');
    out.push('simulator data and receiver; medians of the runs ("× bare loop" is per run, then the median).', '');
    out.push('| collector | build | events/s | × bare loop | CPU s / M events | CPU s / M to the last event | bare loop CPU s / M | peak RSS MiB | idle RSS MiB |');
    out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      for (const [label, runs] of [['before', r.baselineRuns], ['after', r.runs]] as const) {
        if (runs.length === 0) continue;
        const m = (f: (x: Measured) => number) => median(runs.map(f));
        out.push(
          `| ${r.vendor} | ${label} | ${fmt(m((x) => x.eventsPerSecond))} | **${fmt(m((x) => (x.bare ? x.eventsPerSecond / x.bare.eventsPerSecond : Number.NaN)), 2)}** | **${fmt(m((x) => x.cpuSecondsPerMillion), 1)}** | ${fmt(m((x) => x.cpuToLastEventSecondsPerMillion), 1)} | ${fmt(m((x) => x.bare?.cpuSecondsPerMillion ?? Number.NaN), 1)} | **${fmt(m((x) => x.peakRssMiB))}** | **${fmt(m((x) => x.idleRssMiB))}** |`,
        );
      }
    }
    out.push('', 'Every run (before → after):', '');
    out.push('| collector | run | events/s | × bare loop | CPU s / M | peak RSS MiB | idle RSS MiB |');
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    const ratio = (x: Measured) => (x.bare ? x.eventsPerSecond / x.bare.eventsPerSecond : Number.NaN);
    for (const r of results) {
      r.baselineRuns.forEach((b, i) => {
        const a = r.runs[i];
        if (!a) return;
        out.push(`| ${r.vendor} | ${i + 1} | ${fmt(b.eventsPerSecond)} → ${fmt(a.eventsPerSecond)} | ${fmt(ratio(b), 2)} → ${fmt(ratio(a), 2)} | ${fmt(b.cpuSecondsPerMillion, 1)} → ${fmt(a.cpuSecondsPerMillion, 1)} | ${fmt(b.peakRssMiB)} → ${fmt(a.peakRssMiB)} | ${fmt(b.idleRssMiB)} → ${fmt(a.idleRssMiB)} |`);
      });
    }
  }
  out.push('', 'Where the idle RSS is (`process.memoryUsage()` of the idle daemon, MiB; rss − heapTotal − external ≈ code, stacks and the allocator\'s free lists):', '');
  out.push('| collector | run | rss | private (USS) | pss | shared | heapTotal | heapUsed | external | arrayBuffers | `node` binary | glibc `[heap]` | anonymous | libraries |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    r.runs.forEach((x, i) => {
      const m = x.idleMemory;
      const p = x.idlePages;
      const pages = p ? `${fmt(p.private, 1)} | ${fmt(p.pss, 1)} | ${fmt(p.shared, 1)}` : '- | - | -';
      const b = p?.byMapping;
      const mappings = b ? `${fmt(b.binary, 1)} | ${fmt(b.heap, 1)} | ${fmt(b.anonymous, 1)} | ${fmt(b.libraries, 1)}` : '- | - | - | -';
      if (m) out.push(`| ${r.vendor} | ${i + 1} | ${fmt(m['rss']!, 1)} | ${pages} | ${fmt(m['heapTotal']!, 1)} | ${fmt(m['heapUsed']!, 1)} | ${fmt(m['external']!, 1)} | ${fmt(m['arrayBuffers']!, 1)} | ${mappings} |`);
    });
  }
  out.push('', 'private (USS): pages only this process holds; shared: pages it shares with other processes, mostly the `node`',
    'executable\'s code and data, which every collector on the host shares; pss: its fair share of all of them (`/proc/<pid>/smaps_rollup`).',
    'The last four columns split the RSS by mapping (`/proc/<pid>/smaps`): the `node` executable\'s pages, glibc\'s main heap,',
    'anonymous mappings (V8\'s heap, thread stacks, malloc\'s thread arenas) and shared libraries.');
  out.push('', '## Other benchmarks in this repository', '');
  out.push('- Delivery alone (SDK queue → rsyslog over 1, 2 and 4 TLS connections; SDK vs a bare Node TLS writer into a counting sink):');
  out.push('  [`tooling/bench/delivery/REPORT.md`](../tooling/bench/delivery/REPORT.md), by the delivery engineer.');
  for (const e of externals) out.push(`- ${e.title}: ${e.status}`);
  for (const e of externals) {
    if (!e.report) continue;
    // The owner's report as this session produced it, headings pushed two levels down.
    out.push('', `### This session: ${e.title}`, '', e.report.trim().replace(/^(#+) /gm, (_m, h: string) => `${h}## `));
  }
  out.push('', '## Reading the numbers', '');
  out.push('- The receiver (rsyslog parsing every message on one TLS session) is the limit of the ceiling; the collectors');
  out.push('  also pay for pulling, JSON parsing, dedup, `@devo_pulling_id` injection and checkpointing on the same core.');
  out.push('- Start-up is dominated by Node loading the app and, for Darktrace, the signed `/status` probe of setup.');
  out.push(`- "CPU s / M events" is the whole process's CPU time over the events of one run: with ${fmt(EVENTS)} events, the start`);
  out.push('  (Node, the modules, config, state) counts ten times more per event than in a run of a million. The bare loop\'s');
  out.push('  figure is the floor for what parsing each page, serialising each event and TLS cost with no SDK at all.');
  out.push('- CPU time is inflated when the shared machine is busy (caches, frequency, hyper-threads): compare CPU figures');
  out.push('  within one run (the before/after table) and read the bare-loop ratio, not absolute rates.');
  out.push('- Fault injection and loss counting are in [reliability.md](reliability.md).', '');
  return out.join('\n');
}

const startedAt = new Date();
const t0 = performance.now();
const results: VendorResult[] = [];
for (const adapter of SELECTED) results.push(await benchVendor(adapter));
const externals = args['skip-external'] ? [] : await runExternalBenches(log);
const text = report(results, externals, startedAt, (performance.now() - t0) / 1000);
writeReport(args.out, text);
log(`wrote ${args.out}`);
process.stdout.write(text);
await shutdownAdapters();
process.exit(results.some((r) => r.error) ? 1 : 0);
