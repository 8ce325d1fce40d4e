// The measured process: one `--once` run of the built aws-sqs collector through the SDK runtime, with an
// output that acknowledges at once (so the numbers are the collector's, not a receiver's). Reports JSON on
// stdout: events, bytes, wall and CPU seconds (the whole process, and its main thread), peak RSS.
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

class CountingOutput {
  name = 'count';
  type = 'count';
  events = 0;
  bytes = 0;
  async start() {}
  async write(records, service) {
    if (service !== 'standard') return;
    this.events += records.length;
    for (const r of records) this.bytes += r.message.length;
  }
  ready() {
    return true;
  }
  async stop() {}
}

let peakRss = 0;
// rss() alone: memoryUsage() also walks the heap, which costs CPU in the measured process.
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
const output = new CountingOutput();
const logs = new PassThrough();
let logText = '';
logs.on('data', (d) => (logText += d));
const runtime = new CollectorRuntime(awsSqsCollector, { workDir, config, outputs: [output], logStream: logs });
const cpu0 = process.cpuUsage();
const main0 = process.threadCpuUsage();
const t0 = performance.now();
const summary = await runtime.runOnce();
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const main = process.threadCpuUsage(main0);
clearInterval(sampler);
peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
process.stdout.write(
  `${JSON.stringify({
    ok: summary.ok,
    errors: summary.errors,
    events: output.events,
    messageBytes: output.bytes,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainCpuSeconds: (main.user + main.system) / 1e6,
    peakRssMiB: peakRss / 1048576,
    processed: logText.split('\n').filter((l) => l.includes('Processed ')).map((l) => l.replace(/^.*Processed /, 'Processed ')),
  })}\n`,
);
