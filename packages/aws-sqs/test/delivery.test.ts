import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bucketWithQueue, cloudTrailFile, putObject, queueDepth, realPeers, runOnce, SECRET_KEY, sendMessage, sqsConfig, vpcFile, workDir } from './helpers.js';

const peers = realPeers();

function countBy(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

describe('S3 → SQS → peers.rsyslog, against moto', () => {
  it('CloudTrail and VPC objects announced by real bucket notifications arrive exactly once; digests and test events are skipped', async () => {
    const trail = await bucketWithQueue(peers.moto, 'trail-bucket');
    const flows = await bucketWithQueue(peers.moto, 'flow-bucket');
    const expectedTrail: string[] = [];
    for (let f = 0; f < 6; f++) {
      const file = cloudTrailFile(`ct${f}`, 250 + f);
      expectedTrail.push(...file.ids);
      await putObject(peers.moto, trail.bucket, `AWSLogs/111111111111/CloudTrail/us-east-1/2024/01/01/111111111111_CloudTrail_us-east-1_20240101T0000Z_file ${f}.json.gz`, file.body);
    }
    // A digest file has no Records; it must be skipped, not sent.
    await putObject(peers.moto, trail.bucket, 'AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2024/01/01/digest.json.gz', JSON.stringify({ digestStartTime: 'x', logFiles: [] }));
    const expectedFlows: string[] = [];
    for (let f = 0; f < 3; f++) {
      const file = vpcFile(f, 400);
      expectedFlows.push(...file.ids);
      await putObject(peers.moto, flows.bucket, `AWSLogs/123456789010/vpcflowlogs/us-east-1/2024/01/01/123456789010_vpcflowlogs_us-east-1_fl-1_20240101T0000Z_${f}.log.gz`, file.body);
    }
    const dir = workDir();
    const config = sqsConfig(peers.moto, {
      aws_sqs_cloudtrail: { base_url: trail.queueUrl, events_per_batch: 100 },
      aws_sqs_vpc: { base_url: flows.queueUrl, sqs_max_messages: 2 },
    });
    const run = await runOnce(dir, config, peers.rsyslog);
    expect(run.summary.errors).toEqual([]);
    const trailLines = run.received.filter((l) => l.tag === 'cloud.aws.cloudtrail.events');
    const flowLines = run.received.filter((l) => l.tag === 'cloud.aws.vpc.flow');
    expect(trailLines.map((l) => l.event['eventID']).sort()).toEqual([...expectedTrail].sort());
    expect([...countBy(trailLines.map((l) => String(l.event['eventID']))).values()].every((n) => n === 1)).toBe(true);
    expect(flowLines.map((l) => l.event['interface-id']).sort()).toEqual([...expectedFlows].sort());
    expect(flowLines[0]!.event).toMatchObject({ version: '2', srcaddr: '172.31.16.139', action: 'ACCEPT', 'log-status': 'OK' });
    expect(String(trailLines[0]!.event['@devo_pulling_id'])).toMatch(/^\d{13}$/);
    // The record is forwarded as CloudTrail wrote it, plus @devo_pulling_id only.
    const { ['@devo_pulling_id']: _id, ...record } = trailLines[0]!.event;
    expect(Object.keys(record)).toEqual(['eventVersion', 'userIdentity', 'eventTime', 'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress', 'userAgent', 'requestParameters', 'responseElements', 'eventID', 'eventType', 'recipientAccountId']);
    expect(record['userAgent']).toBe('Mozilla/5.0 "quoted" \\ backslash');
    expect(run.logs).toContain('is an s3:TestEvent: deleted without processing');
    expect(run.logs).not.toContain(SECRET_KEY);
    expect(await queueDepth(peers.moto, trail.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await queueDepth(peers.moto, flows.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('handles SNS-wrapped and EventBridge notifications, form-encoded keys, and plain (uncompressed) objects', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'wrapped-bucket');
    // Drain the test event and the real notifications peers.moto sends for these objects first.
    const a = cloudTrailFile('sns', 3);
    const b = cloudTrailFile('eb', 2);
    await putObject(peers.moto, bucket, 'logs/with space+plus.json', a.body, false);
    await putObject(peers.moto, bucket, 'logs/eb object.json.gz', b.body);
    const first = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } }), peers.rsyslog);
    expect(first.received.map((l) => l.event['eventID']).sort()).toEqual([...a.ids, ...b.ids].sort());
    // Now the same objects announced through SNS (raw delivery off) and EventBridge.
    const s3Event = {
      Records: [
        { eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: 'logs/with+space%2Bplus.json', size: 10 } } },
        { eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: 'logs/third.json.gz', size: 10 } } },
      ],
    };
    const c = cloudTrailFile('third', 4);
    await putObject(peers.moto, bucket, 'logs/third.json.gz', c.body);
    await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } })); // its own notification
    await sendMessage(peers.moto, queueUrl, { Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Subject: 'Amazon S3 Notification', Message: JSON.stringify(s3Event) });
    await sendMessage(peers.moto, queueUrl, { Type: 'Notification', MessageId: 'm-2', TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }) });
    await sendMessage(peers.moto, queueUrl, { version: '0', id: 'e-1', 'detail-type': 'Object Created', source: 'aws.s3', account: '123456789012', region: 'us-east-1', detail: { bucket: { name: bucket }, object: { key: 'logs/eb object.json.gz', size: 5 } } });
    const second = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } }), peers.rsyslog);
    expect(second.summary.errors).toEqual([]);
    expect(second.received.map((l) => l.event['eventID']).sort()).toEqual([...a.ids, ...b.ids, ...c.ids].sort());
    expect(second.logs).toContain('is an s3:TestEvent');
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('direct_mode sends the body; debug_md5 adds its md5; do_not_send sends nothing but still acknowledges', async () => {
    const { queueUrl } = await bucketWithQueue(peers.moto, 'direct-bucket');
    await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_json: { base_url: queueUrl } })); // the s3:TestEvent
    await sendMessage(peers.moto, queueUrl, { alert: 'a-1', severity: 5 });
    await sendMessage(peers.moto, queueUrl, 'plain text body');
    const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_json: { base_url: queueUrl, direct_mode: true, debug_md5: true } }), peers.rsyslog);
    const events = run.received.filter((l) => l.tag === 'cloud.aws.sqs.json');
    expect(events).toHaveLength(2);
    expect(events.map((l) => l.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^\{"alert":"a-1","severity":5,"@devo_pulling_id":"\d+"\}$/), 'plain text body']));
    const md5 = run.received.filter((l) => l.tag === 'my.app.sqs.message_body');
    expect(md5).toHaveLength(2);
    const bodies = [JSON.stringify({ alert: 'a-1', severity: 5 }), 'plain text body'];
    expect(md5.map((l) => l.event['md5']).sort()).toEqual(bodies.map((b) => createHash('md5').update(b).digest('hex')).sort());
    await sendMessage(peers.moto, queueUrl, { alert: 'a-2' });
    const quiet = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_json: { base_url: queueUrl, direct_mode: true, do_not_send: true } }), peers.rsyslog);
    expect(quiet.received).toEqual([]);
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('CloudWatch Logs from Firehose (concatenated gzip members, CONTROL_MESSAGE) become named VPC flow records', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'firehose-bucket');
    const doc = (type: string, lines: string[]) =>
      JSON.stringify({ messageType: type, owner: '123456789012', logGroup: 'vpc-flow', logStream: 'eni-1-all', subscriptionFilters: ['to-firehose'], logEvents: lines.map((message, i) => ({ id: String(i), timestamp: 1_700_000_000_000 + i, message })) });
    const line = (port: number) => `2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 ${port} 443 6 10 840 1700000000 1700000060 ACCEPT OK`;
    // Firehose writes each (already gzipped) record as it came: the object is gzip members back to back, no .gz suffix.
    const body = Buffer.concat([gzipSync(doc('CONTROL_MESSAGE', ['CWL CONTROL MESSAGE: Checking health of destination Firehose.'])), gzipSync(doc('DATA_MESSAGE', [line(1001), line(1002)])), gzipSync(doc('DATA_MESSAGE', [line(1003)]))]);
    await putObject(peers.moto, bucket, '2024/01/01/00/vpc-to-s3-1-2024-01-01-00-00-00-0f1e2d3c', body, false);
    const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudwatch_vpc: { base_url: queueUrl } }), peers.rsyslog);
    expect(run.summary.errors).toEqual([]);
    expect(run.received.map((l) => l.event['srcport'])).toEqual(['1001', '1002', '1003']);
    expect(run.received[0]!.event).toMatchObject({ version: '2', 'interface-id': 'eni-0a1b2c3d', dstport: '443', action: 'ACCEPT' });
    expect(run.received.every((l) => l.tag === 'cloud.aws.vpc.flow')).toBe(true);
  });

  it('a message that is not a notification is logged and kept for the dead-letter queue', async () => {
    const { queueUrl } = await bucketWithQueue(peers.moto, 'garbage-bucket');
    await sendMessage(peers.moto, queueUrl, 'this is not json');
    const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } }), peers.rsyslog);
    expect(run.logs).toMatch(/PullError 320: Message \S+ is not an S3 notification: the body is not JSON/);
    expect((await queueDepth(peers.moto, queueUrl)).inFlight).toBe(1);
  });
});
