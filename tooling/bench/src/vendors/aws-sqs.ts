import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startMoto, type MotoServer } from '@collector/testkit';
import { REPO_ROOT } from '../lib/paths.js';
import { benchGlobals } from '../lib/workdir.js';
import type { ConfigOptions, VendorScenario, VendorSpecifics } from './types.js';

const REGION = 'us-east-1';
const ACCESS_KEY = 'AKIABENCHCHAOS0000001';
const SECRET_KEY = 'aws-bench-Secret/Key+0123456789abcdefXYZ';
/** CloudTrail files of this many records: one SQS message (one object) is the "batch" a crash repeats. */
const RECORDS_PER_OBJECT = 500;
/** The queue's default; the collector receives with its own sqs_visibility_timeout (at least 120 s). */
const VISIBILITY_SECONDS = 30;

// The AWS SDK is a dependency of the collector package, not of tooling/bench: load it from there.
const fromCollector = createRequire(join(REPO_ROOT, 'packages', 'aws-sqs', 'package.json'));
type Command = new (input: Record<string, unknown>) => unknown;
interface AwsClient {
  send(command: unknown): Promise<Record<string, unknown>>;
  destroy(): void;
}
type ClientClass = new (config: Record<string, unknown>) => AwsClient;
function sdk() {
  const s3 = fromCollector('@aws-sdk/client-s3') as Record<string, ClientClass & Command>;
  const sqs = fromCollector('@aws-sdk/client-sqs') as Record<string, ClientClass & Command>;
  return { s3, sqs };
}

// One moto server for the whole harness process; every scenario gets its own bucket and queue.
let motoStarting: Promise<MotoServer> | undefined;
function moto(): Promise<MotoServer> {
  motoStarting ??= startMoto();
  return motoStarting;
}
let scenarios = 0;

function cloudTrail(prefix: string, from: number, count: number): { body: Buffer; ids: string[] } {
  const ids: string[] = [];
  const records = [];
  for (let i = 0; i < count; i++) {
    const eventID = `${prefix}-${String(from + i).padStart(7, '0')}`;
    ids.push(eventID);
    records.push({
      eventVersion: '1.08',
      userIdentity: { type: 'IAMUser', principalId: 'AIDABENCH', arn: 'arn:aws:iam::111111111111:user/bench', accountId: '111111111111', userName: 'bench' },
      eventTime: new Date(1_700_000_000_000 + (from + i) * 1000).toISOString().replace(/\.\d{3}/, ''),
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      awsRegion: REGION,
      sourceIPAddress: '203.0.113.7',
      userAgent: 'aws-sdk-js',
      requestParameters: { bucketName: 'data', key: `k/${from + i}` },
      responseElements: null,
      eventID,
      eventType: 'AwsApiCall',
      recipientAccountId: '111111111111',
    });
  }
  return { body: gzipSync(JSON.stringify({ Records: records })), ids };
}

/**
 * AWS SQS (CloudTrail through S3 notifications) against moto: N events in objects of 500, announced by
 * moto's own bucket notifications; `eventID` is the identity. moto has no fault injection (no 429/500/expiry),
 * so no `faults`; the AWS engineer's benchmark measures throughput (`tooling/bench/aws-sqs/`), so this adapter
 * serves chaos.
 */
export const awsSqsAdapter: VendorSpecifics = {
  benchedElsewhere: 'tooling/bench/aws-sqs/REPORT.md',
  stateless: true,
  maxRepeat: 1,
  checkpointBatch: () => ({ events: RECORDS_PER_OBJECT * 8, unit: 'messages in flight (8 objects of 500)' }),
  async shutdown() {
    const starting = motoStarting;
    motoStarting = undefined;
    if (starting) await (await starting).stop();
  },
  async start({ events }): Promise<VendorScenario> {
    const server = await moto();
    const base = { region: REGION, endpoint: server.endpoint, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } };
    const { s3: S3, sqs: SQS } = sdk();
    const s3 = new S3['S3Client']!({ ...base, forcePathStyle: true });
    const sqs = new SQS['SQSClient']!(base);
    const name = `chaos-${process.pid}-${++scenarios}`;
    const queue = await sqs.send(new SQS['CreateQueueCommand']!({ QueueName: `${name}-queue`, Attributes: { VisibilityTimeout: String(VISIBILITY_SECONDS) } }));
    const queueUrl = String(queue['QueueUrl']);
    const attributes = await sqs.send(new SQS['GetQueueAttributesCommand']!({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = (attributes['Attributes'] as Record<string, string>)['QueueArn'];
    await s3.send(new S3['CreateBucketCommand']!({ Bucket: name }));
    await s3.send(new S3['PutBucketNotificationConfigurationCommand']!({ Bucket: name, NotificationConfiguration: { QueueConfigurations: [{ QueueArn: queueArn, Events: ['s3:ObjectCreated:*'] }] } }));
    const truth = new Set<string>();
    for (let from = 0, file = 0; from < events; from += RECORDS_PER_OBJECT, file++) {
      const { body, ids } = cloudTrail(name, from, Math.min(RECORDS_PER_OBJECT, events - from));
      for (const id of ids) truth.add(id);
      await s3.send(new S3['PutObjectCommand']!({ Bucket: name, Key: `AWSLogs/111111111111/CloudTrail/${REGION}/2026/11/22/file-${file}.json.gz`, Body: body }));
    }
    const depth = async () => {
      const r = await sqs.send(new SQS['GetQueueAttributesCommand']!({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      const a = r['Attributes'] as Record<string, string>;
      return Number(a['ApproximateNumberOfMessages']) + Number(a['ApproximateNumberOfMessagesNotVisible']);
    };
    return {
      truth: () => truth,
      config: (o: ConfigOptions) => ({
        globals: benchGlobals(),
        outputs: o.outputs,
        inputs: {
          sqs_collector: {
            id: 'bench',
            credentials: { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY },
            ...o.input,
            services: {
              aws_sqs_cloudtrail: {
                base_url: queueUrl,
                region: REGION,
                endpoint_url: o.baseUrl ?? server.endpoint,
                ack_messages: true,
                sqs_wait_timeout: 1,
                request_period_in_seconds: o.periodSeconds ?? 1,
              },
            },
          },
        },
      }),
      identity: (event) => (typeof event['eventID'] === 'string' ? event['eventID'] : undefined),
      secrets: () => [SECRET_KEY],
      // Messages a killed collector received stay invisible for the visibility timeout: not done until empty.
      pending: async () => (await depth()) > 0,
      close: async () => {
        s3.destroy();
        sqs.destroy();
      },
    };
  },
};
