import { PassThrough } from 'node:stream';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { EncodedBatch } from '@collector/sdk';
import { createLogger } from '@collector/sdk/host';
import { CATALOGUE, ProcessingPool, QueueWorker, resolveOptions, ServicePipeline } from '@collector/aws-sqs';
import { aws, bucketWithQueue, cloudTrailFile, putObject, queueDepth, realPeers, REGION, type Run, runOnce, sendMessage, sqsConfig, workDir } from './helpers.js';

const peers = realPeers();

const PATH = 'inputs.sqs_collector.services.aws_sqs_cloudtrail';
const PULLING_ID = /"@devo_pulling_id":"[^"]*"/;

/**
 * Objects of several sizes (an empty trail, one record, many batches, one uncompressed), each announced by its
 * bucket, and one message announcing three objects of another bucket: five messages, seven objects. The
 * records' text depends on `prefix` only.
 */
async function trailObjects(name: string, prefix: string): Promise<{ queueUrl: string; ids: string[] }> {
  const { bucket, queueUrl } = await bucketWithQueue(peers.moto, name);
  await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } })); // moto's s3:TestEvent
  const ids: string[] = [];
  for (const [i, count] of [0, 1, 2_500, 700].entries()) {
    const file = cloudTrailFile(`${prefix}-${i}`, count);
    ids.push(...file.ids);
    await putObject(peers.moto, bucket, `AWSLogs/1/CloudTrail/us-east-1/2024/01/01/${prefix}-${i}.json.gz`, file.body, i !== 3);
  }
  const other = `${name}-many`;
  await aws(peers.moto).s3.send(new CreateBucketCommand({ Bucket: other }));
  const keys: string[] = [];
  for (let j = 0; j < 3; j++) {
    const file = cloudTrailFile(`${prefix}-many-${j}`, 1_200 + j * 300);
    ids.push(...file.ids);
    keys.push(`AWSLogs/1/CloudTrail/us-east-1/2024/01/02/${prefix}-many-${j}.json.gz`);
    await putObject(peers.moto, other, keys[j]!, file.body);
  }
  await sendMessage(peers.moto, queueUrl, { Records: keys.map((key) => ({ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: other }, object: { key } } })) });
  return { queueUrl, ids };
}

function eventIds(run: Run): string[] {
  return run.received.map((l) => String(l.event['eventID']));
}

describe('processing threads', () => {
  it('decode the objects whose JSON records go on as written; formats that build records stay in the main thread', () => {
    const threaded = (service: string, raw: Record<string, unknown> = {}) => ServicePipeline.resolve(CATALOGUE[service]!, raw, { region: REGION, account: '1' }, PATH).main.threaded;
    expect(threaded('aws_sqs_cloudtrail')).toBe(true);
    expect(threaded('aws_sqs_config')).toBe(true);
    expect(threaded('aws_sqs_waf')).toBe(true);
    expect(threaded('aws_sqs_vpc')).toBe(false);
    expect(threaded('aws_sqs_alb')).toBe(false);
    expect(threaded('aws_sqs_guard_duty')).toBe(false); // eventbridge_detail: the record is rebuilt
    expect(threaded('aws_sqs_cloudtrail', { line_filter_rules: [[{ source: 'record', key: 'eventName', type: 'match', value: 'GetObject' }]] })).toBe(false);
    expect(threaded('aws_sqs_cloudtrail', { file_format: { type: 'unseparated_json_processor', config: { rename: { eventName: 'name' } } } })).toBe(false);
  });

  it('deliver every record exactly once, across objects of several sizes and a message of several objects', async () => {
    const { queueUrl, ids } = await trailObjects('threads-bucket', 'threads');
    const threaded = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl, ack_messages: true, processing_threads: 2, events_per_batch: 100 } }), peers.rsyslog);
    expect(threaded.summary.ok, threaded.logs).toBe(true);
    expect(eventIds(threaded).sort()).toEqual([...ids].sort());
    expect(threaded.logs).toContain('Processed 5 message(s): 7 object(s)');
    expect(threaded.logs).toContain('deleted 5, released 0, failed 0');
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('processing_threads: 0 decodes in the main thread as before: the same events, byte for byte', async () => {
    const { queueUrl, ids } = await trailObjects('nothreads-bucket', 'same');
    const config = (threads: number) => sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl, ack_messages: true, processing_threads: threads, events_per_batch: 100 } });
    const before = await runOnce(workDir(), config(0), peers.rsyslog);
    expect(before.summary.ok, before.logs).toBe(true);
    expect(eventIds(before).sort()).toEqual([...ids].sort());
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    // The same objects announced again, read by threads: the same lines but for the cycle's pulling id.
    const { queueUrl: again, ids: sameIds } = await trailObjects('threads-again-bucket', 'same');
    const threaded = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: again, ack_messages: true, processing_threads: 2, events_per_batch: 100 } }), peers.rsyslog);
    expect(eventIds(threaded).sort()).toEqual([...sameIds].sort());
    const text = (run: Run) => run.received.map((l) => l.message.replace(PULLING_ID, '')).sort();
    expect(text(threaded)).toEqual(text(before));
  });

  it('a thread hands its batches to the SDK as bytes (EncodedBatch, no string per event): the messages and tag of processing_threads: 0', async () => {
    const file = cloudTrailFile('bytes', 2_500);
    const key = 'AWSLogs/1/CloudTrail/us-east-1/2024/01/01/bytes.json.gz';
    /** What one cycle hands to ctx.emit, per call: how (bytes or strings), the tag, the messages. */
    const emitted = async (name: string, pool: ProcessingPool | undefined) => {
      const { bucket, queueUrl } = await bucketWithQueue(peers.moto, name);
      await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } })); // moto's s3:TestEvent
      await putObject(peers.moto, bucket, key, file.body);
      const { s3, sqs } = aws(peers.moto);
      const calls: { bytes: boolean; tag: string; messages: string[] }[] = [];
      const worker = new QueueWorker({
        sqs,
        s3,
        options: resolveOptions({ base_url: queueUrl, region: REGION, endpoint_url: peers.moto.endpoint, ack_messages: true, sqs_wait_timeout: 0, events_per_batch: 300 }, { id: '1', enabled: true }, PATH),
        pipeline: ServicePipeline.resolve(CATALOGUE['aws_sqs_cloudtrail']!, {}, { region: REGION, account: '123456789012' }, PATH),
        pool,
        log: createLogger({ stream: new PassThrough() }),
        signal: new AbortController().signal,
        emit: async (events, tag) => {
          if (events instanceof EncodedBatch) calls.push({ bytes: true, tag: events.tag, messages: events.records().map((r) => r.message) });
          else calls.push({ bytes: false, tag: tag!, messages: events as string[] });
          return { delivered: Promise.resolve() };
        },
        suffix: '"@devo_pulling_id":"1"',
        path: PATH,
      });
      expect(await worker.runCycle()).toMatchObject({ received: 1, deleted: 1, failed: 0, events: 2_500 });
      return calls;
    };
    const inThreads = await emitted('bytes-threads-bucket', new ProcessingPool(1));
    const inMain = await emitted('bytes-main-bucket', undefined);
    expect(inThreads.length).toBeGreaterThan(1);
    expect(inThreads.every((c) => c.bytes)).toBe(true);
    expect(inMain.every((c) => !c.bytes)).toBe(true);
    expect(new Set(inThreads.map((c) => c.tag))).toEqual(new Set(inMain.map((c) => c.tag)));
    const messages = inThreads.flatMap((c) => c.messages);
    expect(messages).toEqual(inMain.flatMap((c) => c.messages));
    expect(messages.map((m) => String(JSON.parse(m).eventID))).toEqual(file.ids);
  });

  it('a processing thread that dies fails its objects with PullError 311; the message stays on the queue and is completed later', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'crash-bucket');
    await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } }));
    const file = cloudTrailFile('crash', 3_000);
    await putObject(peers.moto, bucket, 'AWSLogs/1/CloudTrail/us-east-1/2024/01/01/crash.json.gz', file.body);
    const pool = new ProcessingPool(1);
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (d) => (logText += d));
    const { s3, sqs } = aws(peers.moto);
    const options = { ...resolveOptions({ base_url: queueUrl, region: REGION, endpoint_url: peers.moto.endpoint, ack_messages: true, sqs_wait_timeout: 0 }, { id: '1', enabled: true }, PATH), visibilityTimeout: 1 };
    let batches = 0;
    const worker = new QueueWorker({
      sqs,
      s3,
      options,
      pipeline: ServicePipeline.resolve(CATALOGUE['aws_sqs_cloudtrail']!, {}, { region: REGION, account: '123456789012' }, PATH),
      pool,
      log: createLogger({ stream: logs, debug: true }),
      signal: new AbortController().signal,
      // The thread is killed as its first batch arrives, in the middle of the object.
      emit: async (events) => {
        if (batches++ === 0) await pool.threads[0]!.terminate();
        return { delivered: Promise.resolve() };
      },
      suffix: '"@devo_pulling_id":"1"',
      path: PATH,
    });
    const result = await worker.runCycle();
    expect(result).toMatchObject({ received: 1, deleted: 0, failed: 1 });
    expect(logText).toMatch(/PullError 311: Cannot read s3:\/\/crash-bucket\/AWSLogs\/1\/CloudTrail\/us-east-1\/2024\/01\/01\/crash\.json\.gz: the processing thread exited \(code 1\) \(after \d+ event\(s\)\)/);
    expect(logText).toContain('will be received again after its visibility timeout');
    expect(pool.threads).toHaveLength(0);
    // The message was not deleted: it comes back, and a collector (with new threads) completes it.
    await new Promise((r) => setTimeout(r, 1_500));
    const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl, ack_messages: true, processing_threads: 1 } }), peers.rsyslog);
    expect(eventIds(run).sort()).toEqual([...file.ids].sort());
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});
