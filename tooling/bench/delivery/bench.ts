// Delivery benchmark: events/s and MB/s from the SDK's queue to a real rsyslog over ONE TLS connection,
// with 1 KB JSON events, plus peak RSS; compared with a minimal Node TLS writer (the ceiling) in the same run.
//
//   npx tsx tooling/bench/delivery/bench.ts [events per run=300000] [runs=3]
//
// Writes tooling/bench/delivery/REPORT.md. Not a test: run it by hand on an otherwise idle machine.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fork } from 'node:child_process';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createOutputs, DeliveryPipeline, silentLogger, type DeliveryRecord, type OutputConfig } from '../../../packages/sdk/src/host.js';
import { devoOutputConfig, startRsyslog, type Pki } from '../../testkit/src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const EVENTS = Number(process.argv[2] ?? 300_000);
const TAG = 'my.app.bench.delivery';
const HOST = 'bench-host';

/** 1000 distinct 1 KB JSON events, reused round-robin (the SDK serialises each event once upstream). */
function makeMessages(): string[] {
  const messages: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const base = { id: `evt-${i}`, time: '2024-05-06T07:08:09.123Z', user: `user${i}@example.com`, action: 'login', result: 'success', ip: `10.0.${i % 256}.${i % 200}`, '@devo_pulling_id': '1715000000000' };
    const json = JSON.stringify(base);
    const pad = 1024 - json.length - ',"pad":""'.length;
    messages.push(`${json.slice(0, -1)},"pad":"${'x'.repeat(pad)}"}`);
  }
  return messages;
}

interface Result {
  name: string;
  events: number;
  seconds: number;
  bytes: number;
  cpuSeconds: number;
  peakRssMiB: number;
  startRssMiB: number;
}

function rssSampler(): { start: number; stop(): number } {
  const start = process.memoryUsage.rss() / 1024 / 1024;
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return {
    start,
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) / 1024 / 1024;
    },
  };
}

/** A receiver: rsyslog (counts messages) or the Node sink (counts bytes). */
interface Target {
  name: string;
  port: number;
  pki: Pki;
  /** Resolves once `events` more messages (or `bytes` more bytes) arrived since `mark()`. */
  mark(): () => Promise<void>;
  setExpected(events: number, bytes: () => number): void;
  stop(): Promise<void>;
}

async function until(done: () => boolean, what: () => string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(what());
    await new Promise((res) => setTimeout(res, 5));
  }
}

async function rsyslogTarget(): Promise<Target> {
  const r = await startRsyslog({ countOnly: true });
  let expected = 0;
  return {
    name: 'rsyslog 8.2302 (imtcp + ossl, x509/certvalid)',
    port: r.port,
    pki: r.pki,
    setExpected(events) {
      expected = events;
    },
    mark() {
      const base = r.count();
      return () => until(() => r.count() >= base + expected, () => `rsyslog got ${r.count() - base} of ${expected}`);
    },
    stop: () => r.stop(),
  };
}

async function sinkTarget(pki: Pki): Promise<Target> {
  const child = fork(join(here, 'tls-sink.mjs'), [pki.caCert, pki.serverCert, pki.serverKey], { stdio: 'inherit' });
  let total = 0;
  let port = 0;
  child.on('message', (m: { port?: number; total?: number }) => {
    if (m.port) port = m.port;
    if (m.total !== undefined) total = m.total;
  });
  await until(() => port > 0, () => 'sink did not start', 10_000);
  let bytes: () => number = () => 0;
  return {
    name: 'minimal Node TLS sink (separate process, client certificate required)',
    port,
    pki,
    setExpected(_events, b) {
      bytes = b;
    },
    mark() {
      const base = total;
      // TLS adds framing: wait until at least the plaintext byte count arrived (TLS records only add bytes).
      return () => until(() => total - base >= bytes(), () => `sink got ${total - base} of ${bytes()} bytes`);
    },
    async stop() {
      child.send('stop');
      await new Promise((res) => child.once('exit', res));
    },
  };
}

/** The ceiling: a bare Node TLS socket writing pre-encoded lines in 1 MB chunks as fast as it drains. */
async function ceiling(r: Target, messages: string[], events: number): Promise<Result> {
  let bytes = 0;
  r.setExpected(events, () => bytes);
  const done = r.mark();
  const rss = rssSampler();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const socket = connect({ host: '127.0.0.1', port: r.port, servername: 'localhost', ca: readFileSync(r.pki.caCert), cert: readFileSync(r.pki.clientCert), key: readFileSync(r.pki.clientKey) });
  await new Promise<void>((res, rej) => {
    socket.once('secureConnect', () => res());
    socket.once('error', rej);
  });
  const header = `<14>2024-05-06 07:08:09.123 ${HOST} ${TAG}: `;
  let sent = 0;
  while (sent < events) {
    let chunk = '';
    for (let i = 0; i < 1000 && sent < events; i++, sent++) chunk += `${header}${messages[sent % messages.length]}\n`;
    const buf = Buffer.from(chunk);
    bytes += buf.length;
    if (!socket.write(buf)) await new Promise((res) => socket.once('drain', res));
  }
  await done();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  socket.end();
  return { name: 'minimal Node TLS writer (ceiling)', events, seconds, bytes, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMiB: rss.stop(), startRssMiB: rss.start };
}

/** The SDK: submit → bounded queue → StreamOutput (encoder, one TLS connection) → acknowledged. */
async function sdk(r: Target, messages: string[], events: number): Promise<Result> {
  const block = devoOutputConfig(r) as Record<string, OutputConfig>;
  const outputs = createOutputs(block, { workDir: here, log: silentLogger, hostname: HOST });
  const counters = (outputs[0] as unknown as { counters: { bytes: number } }).counters;
  const pipeline = new DeliveryPipeline(outputs, { statsPeriodMs: 0 });
  await pipeline.start();
  const bytes0 = counters.bytes;
  r.setExpected(events, () => counters.bytes - bytes0);
  const done = r.mark();
  const rss = rssSampler();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const acks: Promise<void>[] = [];
  const batch = 500;
  for (let sent = 0; sent < events; sent += batch) {
    const records: DeliveryRecord[] = new Array(Math.min(batch, events - sent));
    for (let i = 0; i < records.length; i++) records[i] = { tag: TAG, message: messages[(sent + i) % messages.length]! };
    const { delivered } = await pipeline.submit(records);
    acks.push(delivered);
  }
  await Promise.all(acks);
  const ackSeconds = (performance.now() - t0) / 1000;
  await done();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const bytes = counters.bytes - bytes0;
  await pipeline.stop();
  console.log(`  all acknowledged after ${ackSeconds.toFixed(2)} s`);
  return { name: 'SDK DeliveryPipeline + devo_platform output', events, seconds, bytes, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMiB: rss.stop(), startRssMiB: rss.start };
}

const REPS = Number(process.argv[3] ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One table row from REPS runs of the same writer: median and best events/s, median CPU cost, max RSS. */
function row(runs: Result[]): string {
  const eps = runs.map((r) => r.events / r.seconds);
  const mbps = runs.map((r) => r.bytes / 1e6 / r.seconds);
  const perCpu = runs.map((r) => r.events / r.cpuSeconds);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  return `| ${runs[0]!.name} | ${runs[0]!.events.toLocaleString('en-US')} × ${runs.length} | **${fmt(median(eps))}** | ${fmt(Math.max(...eps))} | ${median(mbps).toFixed(1)} | ${fmt(median(perCpu))} | ${Math.min(...runs.map((r) => r.startRssMiB)).toFixed(0)} → ${Math.max(...runs.map((r) => r.peakRssMiB)).toFixed(0)} |`;
}

const rsyslog = await rsyslogTarget();
const sink = await sinkTarget(rsyslog.pki);
try {
  const messages = makeMessages();
  const sections: string[] = [];
  for (const target of [rsyslog, sink]) {
    // Warm-up (JIT, TLS, receiver threads), not reported.
    await sdk(target, messages, 20_000);
    await ceiling(target, messages, 20_000);
    const bare: Result[] = [];
    const ours: Result[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      console.log(`${target.name}: run ${rep + 1}/${REPS}`);
      bare.push(await ceiling(target, messages, EVENTS));
      ours.push(await sdk(target, messages, EVENTS));
    }
    console.log(row(bare));
    console.log(row(ours));
    const ratio = (median(ours.map((r) => r.events / r.seconds)) / median(bare.map((r) => r.events / r.seconds))) * 100;
    sections.push(`### Receiver: ${target.name}

| writer | events × runs | median events/s | best events/s | median MB/s (wire) | events per CPU-second (Node, median) | RSS MiB: before → peak |
|---|---:|---:|---:|---:|---:|---:|
${row(bare)}
${row(ours)}

SDK / ceiling (medians): ${ratio.toFixed(0)} %.
`);
  }
  const cpu = cpus()[0]?.model ?? 'unknown';
  const report = `# Delivery benchmark

Queue → receiver over **one TLS connection** (TLS 1.3, client certificate required and verified), 1 KB JSON
events (${messages[0]!.length} bytes of message + the DCSDK syslog header), DCSDK defaults (queue 10000
messages / 1024 MB, 1 connection, acknowledgement settle floor 20 ms). The "ceiling" is a bare Node TLS socket
writing pre-encoded lines (1000 a write) to the same receiver in the same run. A run ends when the receiver
has everything (rsyslog: every message counted; sink: every byte) and, for the SDK, every batch was
acknowledged.

- Date: ${new Date().toISOString()}
- Machine: ${hostname()}, ${cpus().length} × ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}, Debian 12
- Load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (the machine is shared; numbers vary run to run)
- The Node process is single-threaded (one core); the receiver runs as another process.
- Command: \`npx tsx tooling/bench/delivery/bench.ts ${EVENTS} ${REPS}\` (events per run, runs per writer; writers alternate)

${sections.join('\n')}
Target: 150,000 events/s on one core. "events per CPU-second (Node)" is the sender's own cost (user +
system CPU of the Node process, TLS encryption included): what one core can push when the receiver is not
the limit. rsyslog parses every message and is the bottleneck with one TLS session: there the bare
writer is no true ceiling (its 1000-line bursts do not get through faster than the SDK's batches), so the
Node sink, which only counts bytes, shows the sender's headroom. The SDK numbers include everything a
collector pays per event after serialisation: queue admission with back-pressure, tag check, encoding into
one buffer per batch, TLS, and acknowledgement (each batch settles ≥ 20 ms on a verified, healthy
connection before it counts; up to 16 batches of 1000 events are in flight).
`;
  writeFileSync(join(here, 'REPORT.md'), report);
  console.log(report);
} finally {
  await sink.stop();
  await rsyslog.stop();
}
