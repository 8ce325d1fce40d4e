import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { CollectorRuntime, type DeliveryRecord, type Output, type RunSummary } from '@collector/sdk/host';
import { awsSqsCollector } from '@collector/aws-sqs';
import { afterAll, beforeAll } from 'vitest';
import { devoOutputConfig, startMoto, startRsyslog, type MotoServer, type Rsyslog } from '@collector/testkit';

export const REGION = 'us-east-1';
export const ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';
export const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';

export function aws(moto: MotoServer) {
  const base = { region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } };
  return { s3: new S3Client({ ...base, forcePathStyle: true }), sqs: new SQSClient(base) };
}

/** A bucket whose ObjectCreated notifications go to a new queue (moto delivers them itself). */
export async function bucketWithQueue(moto: MotoServer, name: string, visibility = 120): Promise<{ bucket: string; queueUrl: string; queueArn: string }> {
  const { s3, sqs } = aws(moto);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-queue`, Attributes: { VisibilityTimeout: String(visibility) } }));
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const queueArn = attributes.Attributes!['QueueArn']!;
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: name, NotificationConfiguration: { QueueConfigurations: [{ QueueArn: queueArn, Events: ['s3:ObjectCreated:*'] }] } }));
  return { bucket: name, queueUrl: QueueUrl!, queueArn };
}

export async function putObject(moto: MotoServer, bucket: string, key: string, body: string | Buffer, gzip = true): Promise<void> {
  const { s3 } = aws(moto);
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzip ? gzipSync(bytes) : bytes }));
}

export async function sendMessage(moto: MotoServer, queueUrl: string, body: unknown): Promise<void> {
  await aws(moto).sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: typeof body === 'string' ? body : JSON.stringify(body) }));
}

export async function queueDepth(moto: MotoServer, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const r = await aws(moto).sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(r.Attributes?.['ApproximateNumberOfMessages']), inFlight: Number(r.Attributes?.['ApproximateNumberOfMessagesNotVisible']) };
}

/** CloudTrail records with known event IDs. */
export function cloudTrailFile(prefix: string, count: number): { body: string; ids: string[] } {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
  const Records = ids.map((eventID, i) => ({
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111111111111:user/alice', accountId: '111111111111', userName: 'alice' },
    eventTime: new Date(1_700_000_000_000 + i * 1000).toISOString().replace(/\.\d{3}/, ''),
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    awsRegion: REGION,
    sourceIPAddress: '203.0.113.7',
    userAgent: 'Mozilla/5.0 "quoted" \\ backslash',
    requestParameters: null,
    responseElements: { ConsoleLogin: 'Success' },
    eventID,
    eventType: 'AwsConsoleSignIn',
    recipientAccountId: '111111111111',
  }));
  return { body: JSON.stringify({ Records }), ids };
}

export const VPC_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
/** VPC flow records whose source port encodes their identity (`<file>:<n>` → port). */
export function vpcFile(fileNo: number, count: number): { body: string; ids: string[] } {
  const ids: string[] = [];
  const lines = [VPC_HEADER];
  for (let i = 0; i < count; i++) {
    const eni = `eni-${String(fileNo).padStart(4, '0')}${String(i).padStart(13, '0')}`;
    ids.push(eni);
    lines.push(`2 123456789010 ${eni} 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK`);
  }
  return { body: `${lines.join('\n')}\n`, ids };
}

export function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'aws-sqs-test-'));
}

/** config.yaml as an object: one sqs_collector input with static keys, services as given. */
export function sqsConfig(moto: MotoServer, services: Record<string, Record<string, unknown>>, credentials: Record<string, unknown> = { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY }) {
  const withDefaults = Object.fromEntries(
    Object.entries(services).map(([name, s]) => [name, { region: REGION, endpoint_url: moto.endpoint, ack_messages: true, sqs_wait_timeout: 1, request_period_in_seconds: 1, ...s }]),
  );
  return {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } },
    inputs: { sqs_collector: { id: 12345, credentials, services: withDefaults } },
  };
}

/** Records every line the SDK handed over (events and internal logs). */
export class CapturingOutput implements Output {
  readonly type = 'capture';
  readonly records: DeliveryRecord[] = [];
  down = false;
  constructor(readonly name = 'capture') {}
  async start() {}
  async write(records: readonly DeliveryRecord[]) {
    if (this.down) throw new Error('output down');
    this.records.push(...records);
  }
  ready() {
    return !this.down;
  }
  async stop() {}
  events(): DeliveryRecord[] {
    return this.records.filter((r) => !r.tag.startsWith('devo.collectors.'));
  }
}

export interface ReceivedLine {
  tag: string;
  message: string;
  event: Record<string, unknown>;
}

const SYSLOG_LINE = /^<14>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (\S+) (\S+): ([\s\S]*)$/;

export function eventLines(lines: readonly string[]): ReceivedLine[] {
  const out: ReceivedLine[] = [];
  for (const line of lines) {
    const m = SYSLOG_LINE.exec(line);
    if (!m) throw new Error(`Not a syslog line: ${line.slice(0, 200)}`);
    if (m[2]!.startsWith('devo.collectors.')) continue;
    let event: Record<string, unknown> = {};
    try {
      event = JSON.parse(m[3]!) as Record<string, unknown>;
    } catch {
      // a text event (aws_sqs_text, direct_mode with a text body)
    }
    out.push({ tag: m[2]!, message: m[3]!, event });
  }
  return out;
}

export const FAST_RECONNECT = { connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 };

export interface Run {
  summary: RunSummary;
  output: CapturingOutput;
  logs: string;
  received: ReceivedLine[];
}

/** One `--once` run through the SDK; with `rsyslog`, events also go over TLS to the real receiver. */
export async function runOnce(dir: string, config: Record<string, unknown>, rsyslog?: Rsyslog, output = new CapturingOutput()): Promise<Run> {
  const stream = new PassThrough();
  let logs = '';
  stream.on('data', (d) => (logs += d));
  const from = rsyslog?.lines().length ?? 0;
  const full = rsyslog ? { ...config, outputs: devoOutputConfig(rsyslog) } : config;
  if (rsyslog) Object.assign((full['outputs'] as Record<string, { config: object }>)['devo_1']!.config, FAST_RECONNECT);
  const runtime = new CollectorRuntime(awsSqsCollector, { workDir: dir, config: full, outputs: [output], logStream: stream });
  const summary = await runtime.runOnce();
  let received: ReceivedLine[] = [];
  if (rsyslog) {
    const expected = output.events().length;
    const deadline = Date.now() + 10_000;
    for (;;) {
      received = eventLines(rsyslog.lines().slice(from));
      if (received.length >= expected || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return { summary, output, logs, received };
}

/** Starts moto and rsyslog before a file's tests and stops them after: read them as `peers.moto`, `peers.rsyslog`. */
export function realPeers(): { readonly moto: MotoServer; readonly rsyslog: Rsyslog } {
  const peers = {} as { moto: MotoServer; rsyslog: Rsyslog };
  beforeAll(async () => {
    [peers.moto, peers.rsyslog] = await Promise.all([startMoto(), startRsyslog()]);
  });
  afterAll(async () => {
    await Promise.all([peers.moto?.stop(), peers.rsyslog?.stop()]);
  });
  return peers;
}
