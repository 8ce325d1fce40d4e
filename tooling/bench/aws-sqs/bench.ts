// AWS SQS collector benchmark: CloudTrail (and VPC flow logs) from gzip S3 objects announced through SQS,
// through the whole collector (SQS receive → S3 GetObject stream → gunzip → record split → SDK queue →
// Devo output over TLS → DeleteMessageBatch) into a TLS sink that counts the delivered events exactly.
// Reports events/s per process, per core (per CPU-second of the collector process, every thread), the main
// thread's CPU, peak RSS, and the CPU of the S3/SQS stand-in and of the sink (on the same cores).
//
//   pnpm -s build   # the measured process runs the built dist/
//   npx tsx tooling/bench/aws-sqs/bench.ts [cloudtrail MB=300] [vpc MB=0] [pairs=3] [arms=default,threads=0]
//
// S3 and SQS are the Node stand-in of `@collector/simulators` (`startMiniAws`, the demo's), served from this
// process's memory: the real AWS SDK v3 of the collector talks to it over HTTP as to AWS. Its CPU is this
// process's CPU during a run (it does nothing else then). moto (Python) cost more CPU than the collector on
// the same two cores, so the bench measured moto; the tests still run against moto.
//
// Arms (comma separated), alternated on the same objects (re-announced between runs; the order rotates every
// pair): `default` (this build, its defaults), `base` (BENCH_BASE=<root of another built copy>, e.g. main's,
// its defaults), or settings joined by `+` (SETTINGS: `threads` processing_threads, `inflight`
// max_messages_in_flight, `batch` events_per_batch, `conns` the output's concurrent_connections, `queue` /
// `queuemb` the SDK queue's bounds), node flags (replacing the launch line's flag of the same name) and
// environment variables, e.g. `threads=2+conns=2` or `--max-semi-space-size=4+MALLOC_ARENA_MAX=2`.
// BENCH_CACHE=<dir> keeps the generated objects between runs of the bench.
//
// Writes tooling/bench/aws-sqs/REPORT.md (keeping what is written by hand below its marker line). Not a test:
// the machine's load moves every figure; compare the arms of one run.
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { startMiniAws, type MiniAws } from '../../simulators/src/aws/index.js';
import { generatePki, type Pki } from '../../testkit/src/pki.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLOUDTRAIL_MB = Number(process.argv[2] ?? 300);
const VPC_MB = Number(process.argv[3] ?? 0);
const PAIRS = Number(process.argv[4] ?? 3);
const ARMS = process.argv[5] ?? 'default,threads=0';
const BASE = process.env['BENCH_BASE'];
const CACHE = process.env['BENCH_CACHE'];
const REGION = 'us-east-1';
const HAND_WRITTEN = '<!-- Written by hand below this line: bench.ts keeps it. -->';
const TAGS = { aws_sqs_cloudtrail: 'cloud.aws.cloudtrail.events', aws_sqs_vpc: 'cloud.aws.vpc.flowlogs' } as const;
type Service = keyof typeof TAGS;

/** A pseudo-random generator so runs are comparable. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

const EVENT_NAMES = ['ConsoleLogin', 'GetObject', 'PutObject', 'AssumeRole', 'DescribeInstances', 'CreateTags', 'ListBuckets', 'Decrypt', 'GenerateDataKey', 'UpdateItem'];
const SOURCES = ['signin.amazonaws.com', 's3.amazonaws.com', 'sts.amazonaws.com', 'ec2.amazonaws.com', 'kms.amazonaws.com', 'dynamodb.amazonaws.com'];

/** One realistic CloudTrail record (~1 KB). */
function cloudTrailRecord(r: () => number, n: number): string {
  const id = () => Math.floor(r() * 0xffffffff).toString(16).padStart(8, '0');
  const name = EVENT_NAMES[n % EVENT_NAMES.length]!;
  return JSON.stringify({
    eventVersion: '1.08',
    userIdentity: { type: 'AssumedRole', principalId: `AROA${id()}:session-${n % 977}`, arn: `arn:aws:sts::123456789012:assumed-role/role-${n % 53}/session-${n % 977}`, accountId: '123456789012', accessKeyId: `ASIA${id()}${id()}`, sessionContext: { sessionIssuer: { type: 'Role', principalId: `AROA${id()}`, arn: `arn:aws:iam::123456789012:role/role-${n % 53}`, accountId: '123456789012', userName: `role-${n % 53}` }, attributes: { creationDate: '2024-01-01T00:00:00Z', mfaAuthenticated: 'false' } } },
    eventTime: new Date(1_704_067_200_000 + n * 37).toISOString().replace(/\.\d{3}/, ''),
    eventSource: SOURCES[n % SOURCES.length],
    eventName: name,
    awsRegion: REGION,
    sourceIPAddress: `${Math.floor(r() * 223) + 1}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
    userAgent: n % 3 === 0 ? 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/s3.cp' : 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    requestParameters: { bucketName: `bucket-${n % 101}`, key: `data/${id()}/${id()}.parquet`, Host: `bucket-${n % 101}.s3.us-east-1.amazonaws.com` },
    responseElements: null,
    additionalEventData: { SignatureVersion: 'SigV4', CipherSuite: 'TLS_AES_128_GCM_SHA256', bytesTransferredIn: Math.floor(r() * 100000), AuthenticationMethod: 'AuthHeader', 'x-amz-id-2': `${id()}${id()}${id()}${id()}`, bytesTransferredOut: 0 },
    requestID: `${id()}${id()}`.toUpperCase(),
    eventID: `${id()}-${id().slice(0, 4)}-${id().slice(0, 4)}-${id().slice(0, 4)}-${id()}${id().slice(0, 4)}`,
    readOnly: n % 2 === 0,
    resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::bucket-${n % 101}/data/${id()}` }],
    eventType: 'AwsApiCall',
    managementEvent: false,
    recipientAccountId: '123456789012',
    eventCategory: 'Data',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `bucket-${n % 101}.s3.us-east-1.amazonaws.com` },
  });
}

const VPC_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
function vpcLine(r: () => number, n: number): string {
  const ip = () => `10.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`;
  const start = 1_704_067_200 + Math.floor(n / 1000);
  return `2 123456789012 eni-${Math.floor(r() * 0xffffffff).toString(16).padStart(17, '0')} ${ip()} ${ip()} ${Math.floor(r() * 65535)} ${[443, 22, 80, 53, 3306][n % 5]} 6 ${Math.floor(r() * 500)} ${Math.floor(r() * 500000)} ${start} ${start + 60} ${n % 7 === 0 ? 'REJECT' : 'ACCEPT'} OK`;
}

/** Gzips generated text of about `megabytes` MB (level 6, as CloudTrail and VPC Flow Logs deliver). */
async function gzipObject(megabytes: number, next: (n: number, first: boolean) => string, head: string, tail: string, out: { records: number; bytes: number }): Promise<Buffer> {
  const gzip = createGzip({ level: 6 });
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => gzip.on('end', r));
  const target = megabytes * 1048576;
  let written = 0;
  let block = head;
  let first = true;
  const flush = async () => {
    written += Buffer.byteLength(block);
    if (!gzip.write(block)) await new Promise((r) => gzip.once('drain', r));
    block = '';
  };
  while (written + block.length < target) {
    block += next(out.records++, first);
    first = false;
    if (block.length > 1_000_000) await flush();
  }
  block += tail;
  await flush();
  gzip.end();
  await done;
  out.bytes += written;
  return Buffer.concat(chunks);
}

interface DataSet {
  name: string;
  service: Service;
  objectsMb: number[];
  records: number;
  bytes: number;
  gzBytes: number;
}

interface Prepared {
  set: DataSet;
  queueUrl: string;
  bucket: string;
  keys: string[];
}

/** The gzip objects of a data set: generated (seeded, so every run has the same), or read from BENCH_CACHE. */
async function objectsOf(name: string, objectsMb: number[], kind: 'cloudtrail' | 'vpc'): Promise<{ bodies: Buffer[]; records: number; bytes: number }> {
  const dir = CACHE ? join(CACHE, `${name}-${objectsMb.join('_')}`) : undefined;
  if (dir && existsSync(join(dir, 'manifest.json'))) {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { records: number; bytes: number };
    return { ...manifest, bodies: objectsMb.map((_, i) => readFileSync(join(dir, `${i}.gz`))) };
  }
  const stats = { records: 0, bytes: 0 };
  const r = rng(kind === 'cloudtrail' ? 42 : 7);
  const bodies: Buffer[] = [];
  for (const [i, mb] of objectsMb.entries()) {
    const closed =
      kind === 'cloudtrail'
        ? await gzipObject(mb, (n, first) => (first ? cloudTrailRecord(r, n) : `,${cloudTrailRecord(r, n)}`), '{"Records":[', ']}', stats)
        : await gzipObject(mb, (n) => `${vpcLine(r, n)}\n`, `${VPC_HEADER}\n`, '', stats);
    bodies.push(closed);
    process.stderr.write(`  ${name}: object ${i + 1}/${objectsMb.length} (${mb} MB → ${(closed.length / 1048576).toFixed(1)} MB gzip)\n`);
  }
  if (dir) {
    mkdirSync(dir, { recursive: true });
    bodies.forEach((body, i) => writeFileSync(join(dir, `${i}.gz`), body));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(stats));
  }
  return { bodies, ...stats };
}

/** Puts a data set's objects into the stand-in's bucket and makes its queue. */
async function prepare(aws: MiniAws, name: string, objectsMb: number[], kind: 'cloudtrail' | 'vpc'): Promise<Prepared> {
  const { bodies, records, bytes } = await objectsOf(name, objectsMb, kind);
  const queueUrl = aws.createQueue(`${name}-queue`);
  const keys = bodies.map((body, i) => {
    const key = kind === 'cloudtrail' ? `AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/01/123456789012_CloudTrail_us-east-1_20240101T0000Z_${i}.json.gz` : `AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/01/123456789012_vpcflowlogs_us-east-1_fl-1_20240101T0000Z_${i}.log.gz`;
    aws.putObject(name, key, body);
    return key;
  });
  const gzBytes = bodies.reduce((n, b) => n + b.length, 0);
  return { set: { name, service: kind === 'cloudtrail' ? 'aws_sqs_cloudtrail' : 'aws_sqs_vpc', objectsMb, records, bytes, gzBytes }, queueUrl, bucket: name, keys };
}

/** Announces the objects (as S3 would, one ObjectCreated notification each). */
function announce(aws: MiniAws, p: Prepared): void {
  for (const key of p.keys) aws.notifyObjectCreated(p.queueUrl, p.bucket, key);
}

/** The receiver: counting-sink.mjs in its own process. */
interface Sink {
  port: number;
  count(): Promise<{ events: number; bytes: number; cpuSeconds: number }>;
  stop(): void;
}

async function startSink(pki: Pki, tag: string): Promise<Sink> {
  const child = fork(join(here, 'counting-sink.mjs'), [pki.caCert, pki.serverCert, pki.serverKey, tag], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    port,
    count: () =>
      new Promise((resolve) => {
        child.once('message', resolve as never);
        child.send('count');
      }),
    stop: () => child.send('stop'),
  };
}

interface ChildResult {
  ok: boolean;
  errors: string[];
  seconds: number;
  cpuSeconds: number;
  mainCpuSeconds: number;
  peakRssMiB: number;
  /** BENCH_MEMORY=1: at the highest RSS sample, smaps_rollup, the main thread's memoryUsage() and the threads' heaps, MiB. */
  atPeakMiB?: Record<string, unknown>;
}

interface RunResult extends ChildResult {
  /** Events counted by the sink (the run fails unless every record arrived). */
  events: number;
  /** CPU of the S3/SQS stand-in (this process) and of the sink during the run. */
  sourceCpuSeconds: number;
  sinkCpuSeconds: number;
  load: number;
}

/** Arm settings: the bench's short name → the config key (`globals` for the queue's). */
const SETTINGS = {
  threads: 'processing_threads',
  inflight: 'max_messages_in_flight',
  batch: 'events_per_batch',
  conns: 'concurrent_connections',
  queue: 'queue_max_size_in_messages',
  queuemb: 'queue_max_size_in_mb',
} as const;
type SettingName = keyof typeof SETTINGS;

/** One way of running the collector: this build with some settings, or the baseline build. */
interface Arm {
  label: string;
  settings: Partial<Record<SettingName, number>>;
  /** Node flags that replace the launch line's flag of the same name, or are added (`--max-semi-space-size=4`). */
  flags: string[];
  /** Environment variables set for the collector process, over the launch line's (`MALLOC_ARENA_MAX=2`). */
  env: Record<string, string>;
  base?: string;
}

function parseArms(spec: string): Arm[] {
  return spec.split(',').map((item) => {
    if (item === 'base') {
      if (!BASE) throw new Error('the arm `base` needs BENCH_BASE=<root of a built copy>');
      return { label: 'main (baseline build, defaults)', settings: {}, flags: [], env: {}, base: BASE };
    }
    if (item === 'default') return { label: 'this build, defaults', settings: {}, flags: [], env: {} };
    const arm: Arm = { label: '', settings: {}, flags: [], env: {} };
    const labels: string[] = [];
    for (const pair of item.split('+')) {
      labels.push(pair.startsWith('--') || /^[A-Z][A-Z0-9_]*=/.test(pair) ? `\`${pair}\`` : '');
      if (pair.startsWith('--')) {
        arm.flags.push(pair);
        continue;
      }
      const [k, v] = pair.split('=') as [string, string | undefined];
      if (/^[A-Z][A-Z0-9_]*$/.test(k) && v !== undefined) {
        arm.env[k] = v;
        continue;
      }
      if (!(k in SETTINGS)) throw new Error(`unknown arm setting ${pair} (known: ${Object.keys(SETTINGS).join(', ')}, --node-flag=value, ENV_VAR=value)`);
      arm.settings[k as SettingName] = Number(v);
      labels[labels.length - 1] = `${SETTINGS[k as SettingName]}: ${v}`;
    }
    arm.label = labels.join(', ');
    return arm;
  });
}

/** The launch line's flags with the arm's replacing those of the same name. */
function withFlags(launch: string[], flags: string[]): string[] {
  const name = (flag: string) => flag.split('=', 1)[0];
  return [...launch.filter((l) => !flags.some((f) => name(f) === name(l))), ...flags];
}

function runCollector(aws: MiniAws, sink: Sink, pki: Pki, service: Service, queueUrl: string, arm: Arm): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'aws-sqs-bench-'));
  const { threads, inflight, batch, conns, queue, queuemb } = arm.settings;
  const given = <K extends string>(key: K, value: number | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, number>));
  const config = {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false }, ...given('queue_max_size_in_messages', queue), ...given('queue_max_size_in_mb', queuemb) },
    outputs: {
      devo_1: {
        type: 'devo_platform',
        config: { address: '127.0.0.1', port: sink.port, type: 'SSL', chain: pki.caCert, cert: pki.clientCert, key: pki.clientKey, ...given('concurrent_connections', conns) },
      },
    },
    inputs: {
      sqs_collector: {
        id: 1,
        credentials: { aws_access_key_id: 'AKIABENCHEXAMPLE', aws_secret_access_key: 'bench-secret' },
        services: {
          [service]: {
            base_url: queueUrl,
            region: REGION,
            endpoint_url: aws.endpoint,
            ack_messages: true,
            // The queue holds every message before the run: no long poll at its end.
            sqs_wait_timeout: 0,
            sqs_visibility_timeout: 600,
            ...given('processing_threads', threads),
            ...given('max_messages_in_flight', inflight),
            ...given('events_per_batch', batch),
          },
        },
      },
    },
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return new Promise((resolve, reject) => {
    // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the collector process (every thread) there.
    const flags = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : [];
    // BENCH_CHILD_FLAGS="--max-old-space-size=64": node flags instead of the launch line's (its environment stays).
    const childFlags = process.env['BENCH_CHILD_FLAGS'];
    const root = arm.base ?? join(here, '../../..');
    flags.push(...withFlags(childFlags === undefined ? launchFlags(root) : childFlags.split(' ').filter(Boolean), arm.flags));
    const env = { ...process.env, BENCH_BASE: arm.base ?? '', ...launchEnv(root), ...arm.env };
    const child = spawn(process.execPath, [...flags, join(here, 'collector-child.mjs'), file, dir], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult);
      } catch {
        reject(new Error(`collector exited ${code}: ${out.slice(-500)}`));
      }
    });
  });
}

/** The first line of the built executable: `#!/usr/bin/env -S VAR=value node --flag ...`. */
function launchLine(root: string): string[] {
  const main = join(root, 'apps/aws-sqs/dist/main.js');
  const first = existsSync(main) ? readFileSync(main, 'utf8').split('\n', 1)[0]! : '';
  return first.startsWith('#!/usr/bin/env -S ') ? first.slice('#!/usr/bin/env -S '.length).split(' ') : [];
}
/** The executable's node flags, so the measured process runs as the operator's does. */
function launchFlags(root: string): string[] {
  const words = launchLine(root);
  return words.slice(words.indexOf('node') + 1);
}
/** The executable's environment settings (e.g. MALLOC_MMAP_THRESHOLD_). */
function launchEnv(root: string): Record<string, string> {
  const words = launchLine(root);
  return Object.fromEntries(words.slice(0, Math.max(0, words.indexOf('node'))).map((w) => w.split('=', 2) as [string, string]));
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const range = (values: number[], digits = 0) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? fmt(lo, digits) : `${fmt(lo, digits)}–${fmt(hi, digits)}`;
};

async function main(): Promise<void> {
  const aws = await startMiniAws(REGION);
  const pki = await generatePki();
  const started = new Date();
  const loadAtStart = load();
  // CloudTrail: one large object (bounded memory whatever the size) and 16 ordinary ones, so that a process
  // has several objects to decode at once, as a busy trail gives it.
  const split = (mb: number, rest: number) => [Math.round(mb * 0.2), ...Array.from({ length: rest }, () => Math.max(1, Math.round((mb - Math.round(mb * 0.2)) / rest)))];
  const arms = parseArms(ARMS);
  const summary: string[] = [];
  const every: string[] = [];
  const ratios: string[] = [];
  const sinks = new Map<string, Sink>();
  const collect = async (p: Prepared, arm: Arm): Promise<RunResult> => {
    const tag = TAGS[p.set.service];
    if (!sinks.has(tag)) sinks.set(tag, await startSink(pki, tag));
    const sink = sinks.get(tag)!;
    const before = await sink.count();
    const source0 = process.cpuUsage();
    const result = await runCollector(aws, sink, pki, p.set.service, p.queueUrl, arm);
    const source = process.cpuUsage(source0);
    const after = await sink.count();
    const events = after.events - before.events;
    if (!result.ok || events !== p.set.records) throw new Error(`${p.set.name} (${arm.label}): expected ${p.set.records} events at the sink, got ${events}: ${result.errors.join('; ')}`);
    const run: RunResult = { ...result, events, sourceCpuSeconds: (source.user + source.system) / 1e6, sinkCpuSeconds: after.cpuSeconds - before.cpuSeconds, load: loadavg()[0]! };
    process.stderr.write(
      `  ${arm.label}: ${fmt(events / run.seconds)} events/s, ${fmt(events / run.cpuSeconds)} per CPU-s, main thread ${fmt(run.mainCpuSeconds, 2)} s, peak ${fmt(run.peakRssMiB)} MiB, source ${fmt(run.sourceCpuSeconds, 2)} s, sink ${fmt(run.sinkCpuSeconds, 2)} s CPU (load ${load()})${run.atPeakMiB ? ` at peak ${JSON.stringify(run.atPeakMiB)}` : ''}\n`,
    );
    return run;
  };
  /** Runs every arm `pairs` times on the same objects, rotating the order. */
  const alternate = async (p: Prepared, pairs: number) => {
    const runs = new Map<Arm, RunResult[]>(arms.map((a) => [a, []]));
    for (let i = 0; i < pairs; i++) {
      const order = arms.map((_, j) => arms[(i + j) % arms.length]!);
      for (const arm of order) {
        announce(aws, p);
        const r = await collect(p, arm);
        runs.get(arm)!.push(r);
        every.push(
          `| ${p.set.service} | ${i + 1} | ${arm.label} | **${fmt(r.events / r.seconds)}** | ${fmt(r.events / r.cpuSeconds)} | ${fmt(r.cpuSeconds, 2)} | ${fmt(r.mainCpuSeconds, 2)} | ${fmt(r.seconds, 2)} | ${fmt(r.peakRssMiB)} | ${fmt(r.sourceCpuSeconds, 2)} | ${fmt(r.sinkCpuSeconds, 2)} | ${r.load.toFixed(1)} |`,
        );
      }
    }
    for (const arm of arms) {
      const list = runs.get(arm)!;
      summary.push(
        `| ${p.set.service} | ${p.set.objectsMb.length} (${fmt(p.set.bytes / 1048576)} MB, ${fmt(p.set.gzBytes / 1048576)} MB gzip) | ${fmt(p.set.records)} | ${arm.label} | ${list.length} | **${fmt(median(list.map((r) => r.events / r.seconds)))}** | ${fmt(median(list.map((r) => r.events / r.cpuSeconds)))} | ${fmt(median(list.map((r) => r.events / r.mainCpuSeconds)))} | **${fmt(Math.max(...list.map((r) => r.peakRssMiB)))}** | ${range(list.map((r) => r.sourceCpuSeconds), 2)} | ${range(list.map((r) => r.sinkCpuSeconds), 2)} |`,
      );
    }
    // Ratios per pair against the first arm (both saw the same load), then their median.
    const first = runs.get(arms[0]!)!;
    for (const arm of arms.slice(1)) {
      const perPair = first.map((r, i) => r.events / r.seconds / (runs.get(arm)![i]!.events / runs.get(arm)![i]!.seconds));
      ratios.push(`| ${p.set.service} | ${arms[0]!.label} / ${arm.label} | ${perPair.map((x) => x.toFixed(2)).join(', ')} | **${median(perPair).toFixed(2)}** |`);
    }
  };
  try {
    if (CLOUDTRAIL_MB > 0) {
      process.stderr.write('cloudtrail …\n');
      await alternate(await prepare(aws, 'bench-cloudtrail', split(CLOUDTRAIL_MB, 16), 'cloudtrail'), PAIRS);
    }
    if (VPC_MB > 0) {
      process.stderr.write('vpc …\n');
      await alternate(await prepare(aws, 'bench-vpc', split(VPC_MB, 8), 'vpc'), 1);
    }
  } finally {
    for (const sink of sinks.values()) sink.stop();
    await aws.close();
    rmSync(pki.dir, { recursive: true, force: true });
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const command = `${BASE ? `BENCH_BASE=${BASE} ` : ''}${CACHE ? `BENCH_CACHE=${CACHE} ` : ''}${process.env['BENCH_CHILD_FLAGS'] !== undefined ? `BENCH_CHILD_FLAGS="${process.env['BENCH_CHILD_FLAGS']}" ` : ''}npx tsx tooling/bench/aws-sqs/bench.ts ${CLOUDTRAIL_MB} ${VPC_MB} ${PAIRS} ${ARMS}`;
  const report = `# AWS SQS collector benchmark

SQS notifications → S3 GetObject (streamed) → gunzip → record split → SDK queue → Devo output (TLS 1.3, client
certificate) → DeleteMessageBatch, the whole collector in one process (\`aws_sqs_collector\` built \`dist/\`, SDK
\`CollectorRuntime.runOnce\`, started with the node flags and environment of \`apps/aws-sqs/dist/main.js\`'s
launch line), into a TLS sink in its own process that counts the events of the service's tag exactly
(\`counting-sink.mjs\`; the run fails unless every record arrived). S3 and SQS are the Node stand-in of
\`@collector/simulators\` (\`startMiniAws\`) in the bench's process, objects served from memory; the real AWS SDK
v3 talks to it over HTTP. Source, collector and sink share the machine's cores.

- **events/s per process**: events counted at the sink over the wall-clock time of \`runOnce\` (set-up included).
- **per core**: events per CPU-second of the whole collector process (every thread, user + system).
- **per main-thread second**: events per CPU-second of the collector's main thread alone.
- **peak RSS**: the collector process's maximum resident set, processing threads included.
- **source / sink CPU s**: CPU of the S3/SQS stand-in and of the counting sink during the run.

- Date: ${started.toISOString()}
- Machine: ${hostname()}, ${cpus().length} × ${cpu}, ${(totalmem() / 1073741824).toFixed(1)} GiB RAM, Node ${process.version}
- Load average: ${loadAtStart} at start, ${load()} at the end (the machine is shared)
- Command: \`${command}\`

| service | objects | events | arm | runs | **events/s per process** (median) | events/s per core | events/s per main-thread second | **peak RSS MiB** (max) | source CPU s | sink CPU s |
|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|
${summary.join('\n')}

| service | ratio of events/s per process | every pair | **median** |
|---|---|---|---:|
${ratios.join('\n')}

### Every run

| service | pair | arm | events/s per process | per core | CPU s | main thread CPU s | wall s | peak RSS MiB | source CPU s | sink CPU s | load (1 min) |
|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${every.join('\n')}

Data: CloudTrail records of about 1.5 KB (realistic data events with session context, TLS details,
resources), one object of 20 % of the data and 16 of the rest; VPC flow records of about 118 bytes (one
object of 20 %, 8 of the rest), all gzip level 6, each announced by an S3 ObjectCreated notification.
`;
  const file = join(here, 'REPORT.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const kept = old.includes(HAND_WRITTEN) ? old.slice(old.indexOf(HAND_WRITTEN)) : HAND_WRITTEN + '\n';
  writeFileSync(file, `${report}\n${kept}`);
  process.stdout.write(report);
}

await main();
