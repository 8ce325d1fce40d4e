// AWS SQS collector benchmark: CloudTrail and VPC flow logs from gzip S3 objects announced through SQS,
// through the whole collector (SQS receive → S3 GetObject stream → gunzip → record split → SDK queue →
// output → DeleteMessageBatch), against moto's server. Reports events/s per process (wall clock) and per core
// (per CPU-second of the collector process), the main thread's CPU, and peak RSS.
//
//   pnpm -s build   # the measured process runs the built dist/
//   npx tsx tooling/bench/aws-sqs/bench.ts [cloudtrail MB=400] [vpc MB=200] [parquet MB=220] [pairs=3] [threads=cores]
//
// Each CloudTrail pair runs the same objects (re-announced) with `processing_threads: 0` (decoded in the main
// thread, as before processing threads) and with `threads` processing threads, alternating which goes first.
// BENCH_BASE=<dir>: the root of another built copy of the repository (e.g. main's), run in every pair as
// the baseline. The Parquet data set is one VPC flow log object whose rows are `parquet MB` as flow log text.
//
// Writes tooling/bench/aws-sqs/REPORT.md. Not a test: the machine's load moves every figure; compare the
// arms of one run.
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { createRequire } from 'node:module';
import { startMoto, type MotoServer } from '../../testkit/src/moto.js';

const here = dirname(fileURLToPath(import.meta.url));
// The AWS SDK is a dependency of the collector package, not of tooling/bench: load it from there.
const fromCollector = createRequire(join(here, '../../../packages/aws-sqs/package.json'));
const { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } = fromCollector('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
const { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } = fromCollector('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs');
// ESM only: imported from where the collector package resolves it (a dev dependency of packages/aws-sqs).
const { ParquetWriter, fileWriter, schemaFromColumnData } = (await import(pathToFileURL(fromCollector.resolve('hyparquet-writer')).href)) as typeof import('hyparquet-writer') & {
  fileWriter(file: string): import('hyparquet-writer').Writer;
};
const CLOUDTRAIL_MB = Number(process.argv[2] ?? 400);
const VPC_MB = Number(process.argv[3] ?? 200);
const PARQUET_MB = Number(process.argv[4] ?? 220);
const PAIRS = Number(process.argv[5] ?? 3);
const THREADS = Number(process.argv[6] ?? availableParallelism());
const BASE = process.env['BENCH_BASE'];
const REGION = 'us-east-1';
const credentials = { accessKeyId: 'AKIABENCHEXAMPLE', secretAccessKey: 'bench-secret' };

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
  service: string;
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

async function prepare(moto: MotoServer, name: string, objectsMb: number[], kind: 'cloudtrail' | 'vpc'): Promise<Prepared> {
  const { s3, sqs, queueUrl } = await bucketAndQueue(moto, name);
  const stats = { records: 0, bytes: 0 };
  let gzBytes = 0;
  const keys: string[] = [];
  const r = rng(kind === 'cloudtrail' ? 42 : 7);
  for (const [i, mb] of objectsMb.entries()) {
    const closed =
      kind === 'cloudtrail'
        ? await gzipObject(mb, (n, first) => (first ? cloudTrailRecord(r, n) : `,${cloudTrailRecord(r, n)}`), '{"Records":[', ']}', stats)
        : await gzipObject(mb, (n) => `${vpcLine(r, n)}\n`, `${VPC_HEADER}\n`, '', stats);
    gzBytes += closed.length;
    const key = kind === 'cloudtrail' ? `AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/01/123456789012_CloudTrail_us-east-1_20240101T0000Z_${i}.json.gz` : `AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/01/123456789012_vpcflowlogs_us-east-1_fl-1_20240101T0000Z_${i}.log.gz`;
    await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: closed }));
    keys.push(key);
    process.stderr.write(`  ${name}: object ${i + 1}/${objectsMb.length} (${mb} MB → ${(closed.length / 1048576).toFixed(1)} MB gzip)\n`);
  }
  s3.destroy();
  sqs.destroy();
  return { set: { name, service: kind === 'cloudtrail' ? 'aws_sqs_cloudtrail' : 'aws_sqs_vpc', objectsMb, records: stats.records, bytes: stats.bytes, gzBytes }, queueUrl, bucket: name, keys };
}

/** Creates the bucket and queue of a data set (bucket notifications announce what is put). */
async function bucketAndQueue(moto: MotoServer, name: string): Promise<{ s3: import('@aws-sdk/client-s3').S3Client; sqs: import('@aws-sdk/client-sqs').SQSClient; queueUrl: string }> {
  const base = { region: REGION, endpoint: moto.endpoint, credentials };
  const s3 = new S3Client({ ...base, forcePathStyle: true });
  const sqs = new SQSClient(base);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-queue` }));
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: name, NotificationConfiguration: { QueueConfigurations: [{ QueueArn: arn, Events: ['s3:ObjectCreated:*'] }] } }));
  return { s3, sqs, queueUrl: QueueUrl! };
}

/**
 * One VPC flow log object in Parquet as AWS writes it (default fields, `_` names, 64-bit counters), written
 * row group by row group to a temporary file (never held whole), `textMb` MB as flow log text.
 */
async function prepareParquet(moto: MotoServer, name: string, textMb: number): Promise<Prepared> {
  const { s3, sqs, queueUrl } = await bucketAndQueue(moto, name);
  const dir = mkdtempSync(join(tmpdir(), 'aws-sqs-bench-parquet-'));
  const file = join(dir, 'flows.parquet');
  let writer: InstanceType<typeof ParquetWriter> | undefined;
  const r = rng(11);
  const target = textMb * 1048576;
  const GROUP = 100_000;
  let records = 0;
  let textBytes = 0;
  while (textBytes < target) {
    const rows = Array.from({ length: GROUP }, (_, i) => vpcLine(r, records + i).split(' '));
    for (const row of rows) textBytes += row.join(' ').length + 1;
    const col = (i: number) => rows.map((row) => row[i]!);
    const int = (i: number) => rows.map((row) => Number(row[i]));
    const big = (i: number) => rows.map((row) => BigInt(row[i]!));
    const columnData = [
        { name: 'version', data: int(0), type: 'INT32' },
        { name: 'account_id', data: col(1), type: 'STRING' },
        { name: 'interface_id', data: col(2), type: 'STRING' },
        { name: 'srcaddr', data: col(3), type: 'STRING' },
        { name: 'dstaddr', data: col(4), type: 'STRING' },
        { name: 'srcport', data: int(5), type: 'INT32' },
        { name: 'dstport', data: int(6), type: 'INT32' },
        { name: 'protocol', data: int(7), type: 'INT32' },
        { name: 'packets', data: big(8), type: 'INT64' },
        { name: 'bytes', data: big(9), type: 'INT64' },
        { name: 'start', data: big(10), type: 'INT64' },
        { name: 'end', data: big(11), type: 'INT64' },
        { name: 'action', data: col(12), type: 'STRING' },
        { name: 'log_status', data: col(13), type: 'STRING' },
    ] as const;
    writer ??= new ParquetWriter({ writer: fileWriter(file), schema: schemaFromColumnData({ columnData: [...columnData] } as never), codec: 'SNAPPY' } as never);
    await writer.write({ columnData: [...columnData] as never, rowGroupSize: GROUP });
    records += GROUP;
  }
  writer!.finish();
  const size = statSync(file).size;
  const key = 'AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=01/day=01/123456789012_vpcflowlogs_us-east-1_fl-1_20240101T0000Z_big.log.parquet';
  await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: createReadStream(file), ContentLength: size }));
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`  ${name}: 1 Parquet object, ${records} rows (${(textBytes / 1048576).toFixed(0)} MB as text → ${(size / 1048576).toFixed(1)} MB Parquet)\n`);
  s3.destroy();
  sqs.destroy();
  return { set: { name, service: 'aws_sqs_vpc', objectsMb: [Math.round(textBytes / 1048576)], records, bytes: textBytes, gzBytes: size }, queueUrl, bucket: name, keys: [key] };
}

/** Announces the objects again (as S3 would), so that the same data set can be collected once more. */
async function announce(moto: MotoServer, p: Prepared): Promise<void> {
  const sqs = new SQSClient({ region: REGION, endpoint: moto.endpoint, credentials });
  for (let i = 0; i < p.keys.length; i += 10) {
    const entries = p.keys.slice(i, i + 10).map((key, j) => ({
      Id: String(j),
      MessageBody: JSON.stringify({ Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: p.bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/') } } }] }),
    }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: p.queueUrl, Entries: entries }));
  }
  sqs.destroy();
}

interface ChildResult {
  ok: boolean;
  errors: string[];
  events: number;
  messageBytes: number;
  seconds: number;
  cpuSeconds: number;
  mainCpuSeconds: number;
  peakRssMiB: number;
  processed: string[];
}

/** One way of running the collector: this build with a number of processing threads, or the baseline build. */
interface Arm {
  label: string;
  threads?: number;
  base?: string;
}

function runCollector(moto: MotoServer, service: string, queueUrl: string, arm: Arm): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'aws-sqs-bench-'));
  const threads = arm.threads === undefined ? {} : { processing_threads: arm.threads };
  const config = {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } },
    outputs: {},
    inputs: {
      sqs_collector: {
        id: 1,
        credentials: { aws_access_key_id: credentials.accessKeyId, aws_secret_access_key: credentials.secretAccessKey },
        services: { [service]: { base_url: queueUrl, region: REGION, endpoint_url: moto.endpoint, ack_messages: true, sqs_wait_timeout: 1, sqs_visibility_timeout: 600, ...threads } },
      },
    },
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return new Promise((resolve, reject) => {
    // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the collector process there.
    const profile = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : [];
    // BENCH_CHILD_FLAGS="--max-old-space-size=64" proves the heap stays bounded: the run fails if it is not.
    profile.push(...(process.env['BENCH_CHILD_FLAGS'] ?? '').split(' ').filter(Boolean));
    const env = arm.base ? { ...process.env, BENCH_BASE: arm.base } : { ...process.env, BENCH_BASE: '' };
    const child = spawn(process.execPath, [...profile, join(here, 'collector-child.mjs'), file, dir], { stdio: ['ignore', 'pipe', 'inherit'], env });
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

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const moto = await startMoto();
  const started = new Date();
  const loadAtStart = load();
  // CloudTrail: one large object (bounded memory whatever the size) and 16 ordinary ones, so that a process
  // has several objects to decode at once, as a busy trail gives it.
  const ctBig = Math.round(CLOUDTRAIL_MB * 0.2);
  const ctObjects = [ctBig, ...Array.from({ length: 16 }, () => Math.max(1, Math.round((CLOUDTRAIL_MB - ctBig) / 16)))];
  const vpcBig = Math.round(VPC_MB * 0.2);
  const vpcObjects = [vpcBig, ...Array.from({ length: 8 }, () => Math.max(1, Math.round((VPC_MB - vpcBig) / 8)))];
  const arms: Arm[] = [{ label: 'no threads (processing_threads: 0)', threads: 0 }, { label: `${THREADS} processing threads`, threads: THREADS }, ...(BASE ? [{ label: 'main (baseline build)', base: BASE }] : [])];
  const summary: string[] = [];
  const every: string[] = [];
  const ratios: string[] = [];
  const collect = async (p: Prepared, arm: Arm) => {
    const result = await runCollector(moto, p.set.service, p.queueUrl, arm);
    if (!result.ok || result.events !== p.set.records) throw new Error(`${p.set.name} (${arm.label}): expected ${p.set.records} events, got ${result.events}: ${result.errors.join('; ')}`);
    process.stderr.write(`  ${arm.label}: ${fmt(result.events / result.seconds)} events/s, ${fmt(result.events / result.cpuSeconds)} per CPU-s, main thread ${fmt(result.mainCpuSeconds, 2)} s, peak ${fmt(result.peakRssMiB)} MiB (load ${load()})\n`);
    return result;
  };
  /** Runs every arm `pairs` times on the same objects, rotating the order; returns the runs per arm. */
  const alternate = async (p: Prepared, pairs: number) => {
    const runs = new Map<Arm, ChildResult[]>(arms.map((a) => [a, []]));
    let first = true;
    for (let i = 0; i < pairs; i++) {
      const order = arms.map((_, j) => arms[(i + j) % arms.length]!);
      for (const arm of order) {
        if (!first) await announce(moto, p);
        first = false;
        const result = await collect(p, arm);
        runs.get(arm)!.push(result);
        every.push(`| ${p.set.service} | ${i + 1} | ${arm.label} | **${fmt(result.events / result.seconds)}** | ${fmt(result.events / result.cpuSeconds)} | ${fmt(result.cpuSeconds, 2)} | ${fmt(result.mainCpuSeconds, 2)} | ${fmt(result.seconds, 2)} | ${fmt(result.peakRssMiB)} |`);
      }
    }
    const wall = (arm: Arm) => median(runs.get(arm)!.map((r) => r.events / r.seconds));
    for (const arm of arms) {
      const list = runs.get(arm)!;
      summary.push(
        `| ${p.set.service} | ${p.set.objectsMb.length} (${fmt(p.set.bytes / 1048576)} MB, ${fmt(p.set.gzBytes / 1048576)} MB gzip) | ${fmt(p.set.records)} | ${arm.label} | ${list.length} | **${fmt(wall(arm))}** | ${fmt(median(list.map((r) => r.events / r.cpuSeconds)))} | ${fmt(median(list.map((r) => r.events / r.mainCpuSeconds)))} | **${fmt(Math.max(...list.map((r) => r.peakRssMiB)))}** |`,
      );
    }
    // Ratios per pair (both arms saw the same load), then their median.
    const [off, on, baseline] = [runs.get(arms[0]!)!, runs.get(arms[1]!)!, arms[2] ? runs.get(arms[2])! : undefined];
    const perPair = on.map((r, i) => r.events / r.seconds / (off[i]!.events / off[i]!.seconds));
    ratios.push(`| ${p.set.service} | threads / no threads | ${perPair.map((x) => x.toFixed(2)).join(', ')} | **${median(perPair).toFixed(2)}** |`);
    if (baseline) {
      const vsBase = on.map((r, i) => r.events / r.seconds / (baseline[i]!.events / baseline[i]!.seconds));
      const offVsBase = off.map((r, i) => r.events / r.seconds / (baseline[i]!.events / baseline[i]!.seconds));
      ratios.push(`| ${p.set.service} | threads / main | ${vsBase.map((x) => x.toFixed(2)).join(', ')} | **${median(vsBase).toFixed(2)}** |`);
      ratios.push(`| ${p.set.service} | no threads / main | ${offVsBase.map((x) => x.toFixed(2)).join(', ')} | **${median(offVsBase).toFixed(2)}** |`);
    }
  };
  try {
    process.stderr.write('generating cloudtrail …\n');
    const trail = await prepare(moto, 'bench-cloudtrail', ctObjects, 'cloudtrail');
    process.stderr.write('collecting cloudtrail …\n');
    await alternate(trail, PAIRS);
    await moto.reset();

    process.stderr.write('generating vpc …\n');
    const flows = await prepare(moto, 'bench-vpc', vpcObjects, 'vpc');
    process.stderr.write('collecting vpc …\n');
    await alternate(flows, 1);
    await moto.reset();

    if (PARQUET_MB > 0) {
      process.stderr.write('generating parquet …\n');
      const parquet = await prepareParquet(moto, 'bench-parquet', PARQUET_MB);
      process.stderr.write('collecting parquet …\n');
      const result = await collect(parquet, arms[1]!);
      summary.push(
        `| ${parquet.set.service} (Parquet; MB as flow log text) | 1 (${fmt(parquet.set.bytes / 1048576)} MB, ${fmt(parquet.set.gzBytes / 1048576)} MB Parquet) | ${fmt(parquet.set.records)} | main thread (Parquet is not threaded) | 1 | **${fmt(result.events / result.seconds)}** | ${fmt(result.events / result.cpuSeconds)} | ${fmt(result.events / result.mainCpuSeconds)} | **${fmt(result.peakRssMiB)}** |`,
      );
    }
  } finally {
    await moto.stop();
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const report = `# AWS SQS collector benchmark

SQS notifications → S3 GetObject (streamed) → gunzip → record split → SDK queue → output → DeleteMessageBatch,
the whole collector in one process (\`aws_sqs_collector\` built \`dist/\`, SDK \`CollectorRuntime.runOnce\`),
against moto's server mode on the same machine. The output acknowledges at once (a counting output), so the
numbers are the collector's own cost, not a receiver's; delivery over TLS is measured in
\`tooling/bench/delivery/REPORT.md\`.

- **events/s per process**: events over the wall-clock time of the run (start-up included).
- **per core**: events per CPU-second of the whole process (every thread, user + system).
- **per main-thread second**: events per CPU-second of the main thread alone (what it has left for delivery).
- **peak RSS**: the process's maximum resident set, processing threads included.

Arms, alternated on the same objects (re-announced between runs; the order rotates every pair):
\`processing_threads: 0\` (gunzip and split in the main thread, as before processing threads),
\`processing_threads: ${THREADS}\`${BASE ? ', and the build of `main` (`BENCH_BASE`) with its defaults' : ''}. The ratios are per pair (both
arms saw the same load), then the median.

- Date: ${started.toISOString()}
- Machine: ${hostname()}, ${cpus().length} × ${cpu}, ${(totalmem() / 1073741824).toFixed(1)} GiB RAM, Node ${process.version}
- Load average: ${loadAtStart} at start, ${load()} at the end (the machine is shared: moto and other work run on the same cores)
- Command: \`${BASE ? `BENCH_BASE=${BASE} ` : ''}npx tsx tooling/bench/aws-sqs/bench.ts ${CLOUDTRAIL_MB} ${VPC_MB} ${PARQUET_MB} ${PAIRS} ${THREADS}\`
- Defaults: \`max_messages_in_flight\` 8, \`events_per_batch\` 1000, SDK queue 10000 messages.

| service | objects | events | arm | runs | **events/s per process** (median) | events/s per core | events/s per main-thread second | **peak RSS MiB** (max) |
|---|---|---:|---|---:|---:|---:|---:|---:|
${summary.join('\n')}

| service | ratio of events/s per process | every pair | **median** |
|---|---|---|---:|
${ratios.join('\n')}

### Every run

| service | pair | arm | events/s per process | per core | CPU s | main thread CPU s | wall s | peak RSS MiB |
|---|---:|---|---:|---:|---:|---:|---:|---:|
${every.join('\n')}

Data: CloudTrail records of about 1.5 KB (realistic data events with session context, TLS details,
resources), one object of 20 % of the data and 16 of the rest; VPC flow records of about 118 bytes (one
object of 20 %, 8 of the rest), all gzip level 6, announced by real bucket notifications. The Parquet object
(Snappy, row groups of 100,000 rows) is read with ranged GETs, one row group at a time, in the main thread.
`;
  writeFileSync(join(here, 'REPORT.md'), report);
  process.stdout.write(report);
}

await main();
