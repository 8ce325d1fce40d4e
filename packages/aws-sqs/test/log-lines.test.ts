import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingLogLines, startMoto, type MotoServer } from '@collector/testkit';
import { bucketWithQueue, putObject, runOnce, sqsConfig, vpcFile, workDir } from './helpers.js';
import { VPC_KEY } from './samples.js';

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

/**
 * Lines of Devo's AWS SQS manual (its example log) that operators grep for, as printed there. The manual
 * prints "Acked message" at INFO; ours is at DEBUG (one line per message would flood a busy queue's log).
 */
const MANUAL_LINES = [
  'InputProcess::AWSsqsPuller(sqs_collector,12345,aws_sqs_vpc,predefined) -> Acked message receiptHandle: …',
  'INFO InputProcess::AWSsqsPuller(sqs_collector,12345,aws_sqs_vpc,predefined) -> Pull Started',
  'INFO InputProcess::AWSsqsPuller(sqs_collector,12345,aws_sqs_vpc,predefined) -> Statistics for this pull cycle (@devo_pulling_id=1731996199949):Number of requests made: 1; Number of events received: 1; Number of duplicated events filtered out: 0; Number of events generated and sent: 1; Average of events per second: 1.179.',
];

describe('sqs_collector: log lines as the manual prints them', () => {
  it('a pull of a VPC flow object prints the manual lines (with debug on, for the per-message line)', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(moto, 'log-lines-vpc');
    await putObject(moto, bucket, VPC_KEY, vpcFile(1, 5).body);
    const config = sqsConfig(moto, { aws_sqs_vpc: { base_url: queueUrl } });
    const { summary, logs } = await runOnce(workDir(), { ...config, globals: { ...config.globals, debug: true } });
    expect(summary.errors).toEqual([]);
    expect(missingLogLines(logs, MANUAL_LINES)).toEqual([]);
  });
});
