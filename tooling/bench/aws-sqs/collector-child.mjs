// The measured process: one `--once` run of the built aws-sqs collector through the SDK runtime, with an
// output that acknowledges at once (so the numbers are the collector's, not a receiver's). Reports JSON on
// stdout: events, bytes, wall and CPU seconds, peak RSS.
//
//   node collector-child.mjs <config.json>
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PassThrough } from 'node:stream';
import { CollectorRuntime } from '../../../packages/sdk/dist/index.js';

// BENCH_AWS_DIST: another build of the collector (e.g. the previous version's dist/) for before/after runs.
const dist = process.env.BENCH_AWS_DIST ? pathToFileURL(resolve(process.env.BENCH_AWS_DIST, 'index.js')).href : '../../../packages/aws-sqs/dist/index.js';
const { awsSqsCollector } = await import(dist);

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
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const output = new CountingOutput();
const logs = new PassThrough();
let logText = '';
logs.on('data', (d) => (logText += d));
const runtime = new CollectorRuntime(awsSqsCollector, { workDir, config, outputs: [output], logStream: logs });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const summary = await runtime.runOnce();
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
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
    peakRssMiB: peakRss / 1048576,
    processed: logText.split('\n').filter((l) => l.includes('Processed ')).map((l) => l.replace(/^.*Processed /, 'Processed ')),
  })}\n`,
);
