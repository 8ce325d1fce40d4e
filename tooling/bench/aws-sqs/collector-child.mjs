// The measured process: one `--once` run of the built aws-sqs collector through the SDK runtime, delivering
// with the configured Devo output (the bench's counting TLS sink counts the events). Reports JSON on stdout:
// wall and CPU seconds (the whole process, and its main thread), peak RSS, and whether the run succeeded.
//
//   node collector-child.mjs <config.json> <work dir>
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PassThrough } from 'node:stream';

// BENCH_BASE: the root of another built copy of the repository (e.g. main's) for baseline runs: its SDK and
// its collector, so that the baseline is that build as a whole.
const base = process.env.BENCH_BASE;
const built = (path) => (base ? pathToFileURL(resolve(base, path)).href : new URL(`../../../${path}`, import.meta.url).href);
const { CollectorRuntime } = await import(built('packages/sdk/dist/host.js'));
const { awsSqsCollector } = await import(built('packages/aws-sqs/dist/index.js'));

const [configFile, workDir] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configFile, 'utf8'));

let peakRss = 0;
let t0 = performance.now();
// rss() alone: memoryUsage() also walks the heap, which costs CPU in the measured process.
// BENCH_MEMORY=1: also, at the highest RSS sample, the main thread's memoryUsage(), the process's
// /proc/self/smaps_rollup (anonymous vs file-backed resident memory) and each processing thread's V8 heap
// (costs a heap walk a sample).
const detail = process.env.BENCH_MEMORY === '1';
const pool = detail ? (await import(built('packages/aws-sqs/dist/processing-pool.js'))).processingPool(0) : undefined;
const mib = (bytes) => Math.round(bytes / 1048576);
let atPeak;
function rollup() {
  const wanted = { Rss: 'rss', Anonymous: 'anon', Pss_File: 'file' };
  const out = {};
  for (const line of readFileSync('/proc/self/smaps_rollup', 'utf8').split('\n')) {
    const [name, kb] = line.split(/:\s+/);
    if (name in wanted) out[wanted[name]] = Math.round(parseInt(kb, 10) / 1024);
  }
  return out;
}
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss <= peakRss) return;
  peakRss = rss;
  if (!detail) return;
  const main = Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, mib(v)]));
  const sample = { seconds: Math.round(performance.now() - t0) / 1000, ...rollup(), main, threads: [] };
  atPeak = sample;
  for (const worker of pool.threads) {
    worker.getHeapStatistics().then(
      (h) => sample.threads.push({ heap: mib(h.total_heap_size), used: mib(h.used_heap_size), external: mib(h.external_memory), malloced: mib(h.malloced_memory) }),
      () => undefined,
    );
  }
}, 50);
// The collector's log lines are not the measure: dropped.
const logs = new PassThrough();
logs.resume();
const runtime = new CollectorRuntime(awsSqsCollector, { workDir, config, logStream: logs });
const cpu0 = process.cpuUsage();
const main0 = process.threadCpuUsage();
t0 = performance.now();
const summary = await runtime.runOnce();
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const main = process.threadCpuUsage(main0);
clearInterval(sampler);
// VmHWM, not resourceUsage().maxRSS: Linux carries ru_maxrss over fork and exec (the harness's RSS at spawn).
peakRss = Math.max(peakRss, Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024);
process.stdout.write(
  `${JSON.stringify({
    ok: summary.ok,
    errors: summary.errors,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainCpuSeconds: (main.user + main.system) / 1e6,
    peakRssMiB: peakRss / 1048576,
    ...(atPeak ? { atPeakMiB: atPeak } : {}),
  })}\n`,
);
