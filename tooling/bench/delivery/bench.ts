// Delivery benchmark: events/s from the SDK's queue to a real rsyslog over 1, 2 and 4 TLS connections
// (`concurrent_connections`), with the CPU each side spends (the sender's Node process and every rsyslog
// thread), and the SDK against a bare Node TLS writer into a counting sink (the sender's own ceiling).
// Configurations alternate inside one session, so ratios are measured under the same load.
//
//   npx tsx tooling/bench/delivery/bench.ts [events per run=300000] [rounds=3] [connections=1,2,4] [rsyslog queue workers=0] [sink variants] [baseline dir]
//
// connections `-` skips the rsyslog section. A count with `L` (e.g. `1,2,2L,4L`) sends its connections through
// a balancer (balancer.ts: iptables, root) that spreads them over as many rsyslog listeners as the largest
// such count, one connection per listener: the set-up of a relay on rsyslog 8.2302 (REPORT.md says why);
// plain counts share one listener. Sink variants (`-` skips the sink section) (A/B of the SDK's own settings against the bare
// writer, in the same rounds): a comma-separated list of `<ack_settle_in_ms>/<batches in flight>`, e.g.
// `20/16,5/16`, with an optional third field for the output's connections (`-/-/2`: defaults, 2 connections;
// `-` keeps a field's default); `default` (the default) is the SDK as configured by default. A baseline directory (a copy
// of another commit with its dependencies installed) adds that copy's SDK to the sink section, alternated
// with this tree's in the same rounds.
//
// Writes tooling/bench/delivery/REPORT.md (keeping what is written by hand below its marker line). Not a
// test: run it by hand (or through `pnpm bench`).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fork } from 'node:child_process';
import { connect } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as thisSdk from '../../../packages/sdk/src/host.js';
import type { DeliveryRecord, OutputConfig } from '../../../packages/sdk/src/host.js';
import { devoOutputConfig, startRsyslog, type Pki } from '../../testkit/src/index.js';
import { balancerUnavailable, startBalancer } from './balancer.js';

const here = dirname(fileURLToPath(import.meta.url));
const EVENTS = Number(process.argv[2] ?? 300_000);
const ROUNDS = Number(process.argv[3] ?? 3);
/** Connection counts of the rsyslog section; `balanced`: through the balancer, one listener each. */
const CONNECTIONS = process.argv[4] === '-' ? [] : (process.argv[4] ?? '1,2,4').split(',').map((c) => ({ count: Number.parseInt(c, 10), balanced: c.endsWith('L') }));
/** Listeners behind the balancer (0: none); the first listener takes the unbalanced connections. */
const BALANCED_LISTENERS = Math.max(0, ...CONNECTIONS.filter((c) => c.balanced).map((c) => c.count));
/** 0: rsyslog parses and writes on the imtcp thread that read the message; N: on N queue workers. */
const QUEUE_WORKERS = Number(process.argv[5] ?? 0);
/** SDK variants for the sink section: undefined fields keep the defaults. */
interface Variant {
  settleMs?: number;
  inflight?: number;
  /** Connections of the SDK's output (1 by default): the sender's own cost of a second connection. */
  connections?: number;
}
const VARIANTS: Variant[] = process.argv[6] === '-' ? [] : (process.argv[6] ?? 'default').split(',').map((v) => {
  if (v === 'default') return {};
  const [settle, inflight, connections] = v.split('/').map(Number);
  return { ...(Number.isFinite(settle) ? { settleMs: settle } : {}), ...(Number.isFinite(inflight) ? { inflight } : {}), ...(Number.isFinite(connections) ? { connections } : {}) };
});
const BASELINE = process.argv[7] === '-' ? undefined : process.argv[7];
/** The SDK of the baseline copy (its TypeScript sources, as this tree's are used). */
const baselineSdk = BASELINE ? ((await import(join(BASELINE, 'packages/sdk/src/host.ts'))) as typeof thisSdk) : undefined;
const variantName = (v: Variant) => (v.settleMs === undefined && v.inflight === undefined ? '' : ` (settle ${v.settleMs ?? 'default'} ms, ${v.inflight ?? 16} in flight)`);
const variantConnections = (v: Variant) => v.connections ?? 1;
const HAND_WRITTEN = '<!-- Written by hand below this line: bench.ts keeps it. -->';
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
  connections: number;
  events: number;
  seconds: number;
  bytes: number;
  /** User + system CPU of this Node process (the sender: encoding, TLS encryption, acknowledgements). */
  cpuSeconds: number;
  /** Share of the run the sender's event loop was busy (1 = the sender's one thread was the limit). */
  loopBusy: number;
  /** CPU seconds of each receiver thread that did work (rsyslog only), busiest first. */
  receiverThreads: number[];
  /**
   * Share of the run each of those threads was runnable (on a core or waiting for one; /proc schedstat), in
   * the same order. A thread near 100 % always had work: on an idle machine it would keep a core busy. One
   * well below sleeps, waiting for data or for another thread, whatever the load.
   */
  receiverRunnable: number[];
  /**
   * Times the receiver's threads went to sleep waiting (voluntary context switches): a thread that waits for
   * another (a lock, a hand-off) or for data sleeps and is woken again, which costs CPU of its own.
   */
  receiverSleeps: number;
  /** 1-minute load average at the end of the run. */
  load: number;
}

interface ThreadSample {
  /** CPU seconds (clock ticks of 10 ms). */
  cpu: number;
  /** Seconds on a core or waiting in the run queue (schedstat, ns). */
  runnable: number;
}

/** Each thread of a process by thread id, from /proc; `sleeps`: voluntary context switches of all its threads. */
function threadCpu(pid: number | undefined): Map<string, ThreadSample> & { sleeps?: number } {
  const threads: Map<string, ThreadSample> & { sleeps?: number } = new Map<string, ThreadSample>();
  if (!pid) return threads;
  threads.sleeps = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const dir = `/proc/${pid}/task/${tid}`;
    const stat = readFileSync(`${dir}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [onCpu, waiting] = readFileSync(`${dir}/schedstat`, 'utf8').split(' ').map(Number);
    threads.set(tid, { cpu: (Number(fields[11]) + Number(fields[12])) / 100, runnable: ((onCpu ?? 0) + (waiting ?? 0)) / 1e9 });
    threads.sleeps += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`${dir}/status`, 'utf8'))?.[1] ?? 0);
  }
  return threads;
}

/** A receiver: rsyslog (counts messages) or the Node sink (counts bytes). */
interface Target {
  name: string;
  port: number;
  pki: Pki;
  /** The receiver's process id when its threads are to be measured. */
  pid?: number;
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

/** rsyslog, and when `BALANCED_LISTENERS` > 0 the same rsyslog behind the balancer (`balanced`, other ports). */
async function rsyslogTarget(): Promise<Target & { balanced?: Target }> {
  // By default a direct ruleset queue: each message is parsed and written by the imtcp thread that read it
  // (REPORT.md says why a queue with workers does not help rsyslog 8.2302 here).
  const unusable = BALANCED_LISTENERS > 0 ? balancerUnavailable() : undefined;
  if (unusable) throw new Error(`Connection counts with L need the balancer: ${unusable}`);
  const r = await startRsyslog({ countOnly: true, queueWorkers: QUEUE_WORKERS, listeners: 1 + BALANCED_LISTENERS });
  const stopBalancer = BALANCED_LISTENERS > 0 ? startBalancer(r.ports.slice(1)) : undefined;
  let expected = 0;
  const target = (port: number): Target => ({
    name: `rsyslog 8.2302 (imtcp + ossl, x509/certvalid, ${QUEUE_WORKERS > 0 ? `ruleset queue with ${QUEUE_WORKERS} workers` : 'direct ruleset queue'}${BALANCED_LISTENERS > 0 ? `; "over N listeners": through a balancer to ${BALANCED_LISTENERS} more imtcp inputs` : ''})`,
    port,
    pki: r.pki,
    pid: Number(readFileSync(join(r.dir, 'rsyslog.pid'), 'utf8')),
    setExpected(events) {
      expected = events;
    },
    mark() {
      const base = r.count();
      return () => until(() => r.count() >= base + expected, () => `rsyslog got ${r.count() - base} of ${expected}`);
    },
    async stop() {
      stopBalancer?.();
      await r.stop();
    },
  });
  return { ...target(r.port), ...(stopBalancer ? { balanced: target(r.ports[1]!) } : {}) };
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
    ...(child.pid ? { pid: child.pid } : {}),
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

/** Measures one run: the sender's CPU and loop, the receiver's threads, until `done` resolves. */
async function measure(r: Target, name: string, connections: number, events: number, body: () => Promise<number>): Promise<Result> {
  const threads0 = threadCpu(r.pid);
  const cpu0 = process.cpuUsage();
  const loop0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const bytes = await body();
  const seconds = (performance.now() - t0) / 1000;
  const loopBusy = performance.eventLoopUtilization(loop0).utilization;
  const cpu = process.cpuUsage(cpu0);
  const threads1 = threadCpu(r.pid);
  const busy = [...threads1]
    .map(([tid, s]) => ({ cpu: s.cpu - (threads0.get(tid)?.cpu ?? 0), runnable: s.runnable - (threads0.get(tid)?.runnable ?? 0) }))
    .filter((t) => t.cpu >= 0.05)
    .sort((a, b) => b.cpu - a.cpu);
  const receiverSleeps = (threads1.sleeps ?? 0) - (threads0.sleeps ?? 0);
  return { name, connections, events, seconds, bytes, cpuSeconds: (cpu.user + cpu.system) / 1e6, loopBusy, receiverThreads: busy.map((t) => t.cpu), receiverRunnable: busy.map((t) => Math.min(1, t.runnable / seconds)), receiverSleeps, load: loadavg()[0]! };
}

/** The ceiling: a bare Node TLS socket writing pre-encoded lines in 1000-line chunks as fast as it drains. */
async function bare(r: Target, messages: string[], events: number): Promise<Result> {
  let bytes = 0;
  r.setExpected(events, () => bytes);
  const done = r.mark();
  return measure(r, 'bare Node TLS writer', 1, events, async () => {
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
    socket.end();
    return bytes;
  });
}

/** The SDK: submit → bounded queue → StreamOutput (encoder, `connections` TLS connections) → acknowledged. */
async function sdk(r: Target, messages: string[], events: number, connections: number, variant: Variant = {}, { createOutputs, DeliveryPipeline, silentLogger } = thisSdk, label = 'SDK', suffix = ''): Promise<Result> {
  const block = devoOutputConfig(r) as Record<string, OutputConfig>;
  Object.assign(block['devo_1']!.config, { concurrent_connections: connections }, variant.settleMs === undefined ? {} : { ack_settle_in_ms: variant.settleMs });
  const outputs = createOutputs(block, { workDir: here, log: silentLogger, hostname: HOST });
  const counters = (outputs[0] as unknown as { counters: { bytes: number } }).counters;
  const pipeline = new DeliveryPipeline(outputs, { statsPeriodMs: 0, ...(variant.inflight === undefined ? {} : { maxInflightBatches: variant.inflight }) });
  await pipeline.start();
  r.setExpected(events, () => counters.bytes);
  const done = r.mark();
  const result = await measure(r, `${label}, ${connections} connection${connections > 1 ? 's' : ''}${suffix}${variantName(variant)}`, connections, events, async () => {
    const acks: Promise<void>[] = [];
    const batch = 500;
    for (let sent = 0; sent < events; sent += batch) {
      const records: DeliveryRecord[] = new Array(Math.min(batch, events - sent));
      for (let i = 0; i < records.length; i++) records[i] = { tag: TAG, message: messages[(sent + i) % messages.length]! };
      const { delivered } = await pipeline.submit(records);
      acks.push(delivered);
    }
    await Promise.all(acks);
    await done();
    return counters.bytes;
  });
  await pipeline.stop();
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const eps = (r: Result) => r.events / r.seconds;
/** CPU seconds per million events. */
const perMillion = (seconds: number, events: number) => (seconds / events) * 1e6;

function runRow(round: number, r: Result, base: Result | undefined): string {
  const threads = r.receiverThreads.length > 0 ? `${fmt(perMillion(r.receiverThreads.reduce((a, b) => a + b, 0), r.events), 1)} (${r.receiverThreads.map((t) => fmt(perMillion(t, r.events), 1)).join(' + ')})` : '–';
  return `| ${round} | ${r.name} | ${fmt(eps(r))} | ${base ? `**${fmt(eps(r) / eps(base), 2)}**` : '–'} | ${fmt((r.bytes / 1e6) / r.seconds, 1)} | ${fmt(perMillion(r.cpuSeconds, r.events), 1)} | ${fmt(r.loopBusy * 100)} % | ${threads} | ${r.receiverRunnable.length > 0 ? `${r.receiverRunnable.map((t) => fmt(t * 100)).join(' + ')} %` : '–'} | ${fmt(sleepsPerK(r), 1)} | ${fmt(r.load, 1)} |`;
}

/** The receiver's sleeps (voluntary context switches, all threads) per 1000 events. */
const sleepsPerK = (r: Result) => (r.receiverSleeps / r.events) * 1000;

const TABLE_HEAD = `| round | writer | events/s | × first writer of the round | MB/s | sender CPU s / M events | sender loop busy | receiver CPU s / M events (per busy thread) | receiver threads runnable | receiver sleeps / 1000 events | load (1 min) |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`;

/**
 * Runs the writers in turn, `ROUNDS` times, each round starting one writer later (no writer always runs
 * first, right after a pause), and returns the report section; ratios are per round against writer 0.
 */
async function compare(target: Target, title: string, writers: { name: string; run: () => Promise<Result> }[], ratioLabel: string): Promise<string> {
  for (const w of writers) await w.run(); // warm-up (JIT, TLS, receiver threads), not reported
  const rounds: Result[][] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const results: Result[] = new Array(writers.length);
    for (let k = 0; k < writers.length; k++) {
      const j = (k + round - 1) % writers.length;
      console.log(`${title}: round ${round}/${ROUNDS}, ${writers[j]!.name}`);
      results[j] = await writers[j]!.run();
    }
    rounds.push(results);
  }
  const rows = rounds.flatMap((results, i) => results.map((r, j) => runRow(i + 1, r, j === 0 ? undefined : results[0])));
  const medians = writers.map((w, j) => {
    const runs = rounds.map((rs) => rs[j]!);
    const ratio = j === 0 ? '–' : `**${fmt(median(rounds.map((rs) => eps(rs[j]!) / eps(rs[0]!))), 2)}**`;
    // The same comparison by the sender's cost: events per CPU-second of this writer over writer 0's.
    const cpuRatio = j === 0 ? '–' : fmt(median(rounds.map((rs) => rs[0]!.cpuSeconds / rs[0]!.events / (rs[j]!.cpuSeconds / rs[j]!.events))), 2);
    const receiver = median(runs.map((r) => perMillion(r.receiverThreads.reduce((a, b) => a + b, 0), r.events)));
    return `| ${runs[0]!.name} | ${fmt(median(runs.map(eps)))} | ${ratio} | ${fmt(median(runs.map((r) => perMillion(r.cpuSeconds, r.events))), 1)} | ${cpuRatio} | ${fmt(median(runs.map((r) => r.loopBusy)) * 100)} % | ${receiver > 0 ? fmt(receiver, 1) : '–'} | ${fmt(median(runs.map((r) => r.receiverThreads.length)))} | ${fmt(median(runs.map(sleepsPerK)), 1)} |`;
  });
  return `### ${title}

Medians of ${ROUNDS} rounds (${ratioLabel}: the median of the per-round ratios):

| writer | events/s | ${ratioLabel} | sender CPU s / M events | events per sender CPU-second ${ratioLabel} | sender loop busy | receiver CPU s / M events | receiver threads busy | receiver sleeps / 1000 events |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${medians.join('\n')}

Every run (within a round, the order rotates by one each round):

${TABLE_HEAD}
${rows.join('\n')}
`;
}

// Interrupted: exit normally, so the 'exit' handlers stop rsyslog and remove the balancer's rules.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const rsyslog = await rsyslogTarget();
const sink = await sinkTarget(rsyslog.pki);
const loadAtStart = loadavg();
try {
  const messages = makeMessages();
  const sections: string[] = [];
  if (CONNECTIONS.length > 0) sections.push(
    await compare(
      rsyslog,
      `Receiver: ${rsyslog.name}, ${CONNECTIONS.map((c) => `${c.count}${c.balanced ? ' (over as many listeners)' : ''}`).join(' vs ')} connections`,
      CONNECTIONS.map((c) => ({
        name: `SDK ×${c.count}${c.balanced ? 'L' : ''}`,
        run: () => (c.balanced ? sdk(rsyslog.balanced!, messages, EVENTS, c.count, {}, thisSdk, 'SDK', ` over ${c.count} listener${c.count > 1 ? 's' : ''}`) : sdk(rsyslog, messages, EVENTS, c.count)),
      })),
      `× ${CONNECTIONS[0]!.count} connection${CONNECTIONS[0]!.count > 1 ? 's' : ''}`,
    ),
  );
  if (VARIANTS.length > 0 || baselineSdk) sections.push(
    await compare(
      sink,
      `Receiver: ${sink.name}, bare writer vs SDK (1 connection each unless said${VARIANTS.length > 1 ? `; SDK variants: ${VARIANTS.map((v) => `${variantName(v).trim() || 'default'}${v.connections ? ` ×${v.connections}` : ''}`).join(', ')}` : ''})`,
      [
        { name: 'bare', run: () => bare(sink, messages, EVENTS) },
        ...VARIANTS.map((v) => ({ name: `SDK ×${variantConnections(v)}${variantName(v)}`, run: () => sdk(sink, messages, EVENTS, variantConnections(v), v) })),
        ...(baselineSdk ? [{ name: 'baseline SDK ×1', run: () => sdk(sink, messages, EVENTS, 1, {}, baselineSdk, `SDK of ${BASELINE}`) }] : []),
      ],
      '× bare writer',
    ),
  );
  const cpu = cpus()[0]?.model ?? 'unknown';
  const report = `# Delivery benchmark

Queue → receiver over TLS 1.3 with a client certificate required and verified, 1 KB JSON events
(${messages[0]!.length} bytes of message + the DCSDK syslog header), DCSDK defaults (queue 10000 messages, batches of
at most 1000 events, 16 batches being written and up to 16 more settling, acknowledgement settle floor 20 ms). A run ends when the receiver
has everything (rsyslog: every message counted; sink: every byte) and, for the SDK, every batch was
acknowledged. The writers alternate within each round, so each ratio compares runs made a few seconds apart
under the same machine load.

- Date: ${new Date().toISOString()}
- Machine: ${hostname()}, ${cpus().length} × ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}
- Load average (1, 5, 15 min): ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end (the machine is shared)
- Command: \`npx tsx tooling/bench/delivery/bench.ts ${EVENTS} ${ROUNDS} ${CONNECTIONS.map((c) => `${c.count}${c.balanced ? 'L' : ''}`).join(',') || '-'} ${QUEUE_WORKERS} ${process.argv[6] ?? 'default'}${BASELINE ? ` ${BASELINE}` : ''}\` (events per run, rounds, connection counts, rsyslog queue workers, sink variants, baseline)

${sections.join('\n')}
Columns: "sender CPU" is user + system CPU of the Node process (encoding, TLS encryption of every connection,
acknowledgements; one thread); "sender loop busy" is the event-loop utilisation of that thread (near 100 %
means the sender is the limit); "receiver CPU" sums the receiver's threads that worked during the run (each
≥ 0.05 s listed, busiest first); for the sink, its Node process's threads; "receiver sleeps" counts the times
the receiver's threads blocked (voluntary context switches: waiting for data, a lock or another thread);
"receiver threads runnable" is the share of the run each busy thread was on a core or waiting for one (a
thread near 100 % always had work and would keep a core busy on an idle machine).
`;
  const file = join(here, 'REPORT.md');
  const previous = readFileSync(file, 'utf8');
  const kept = previous.includes(HAND_WRITTEN) ? previous.slice(previous.indexOf(HAND_WRITTEN)) : HAND_WRITTEN + '\n';
  writeFileSync(file, `${report}\n${kept}`);
  console.log(report);
} finally {
  await sink.stop();
  await rsyslog.stop();
}
