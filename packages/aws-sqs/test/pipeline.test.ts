import { describe, expect, it } from 'vitest';
import { bucketWithQueue, putObject, queueDepth, realPeers, runOnce, sqsConfig, workDir } from './helpers.js';
import { vpcParquet } from './parquet-fixture.js';
import { CLOUDTRAIL_KEY, CONFIG_KEY, CUSTOM_SERVICE, VPC_KEY, VPC_V2_HEADER, cloudTrailBody, configBody } from './samples.js';

const peers = realPeers();

const PREFIX = 'o-abc123def4/AWSLogs/111122223333';

describe('one queue, several log types: aws_sqs_control_tower routes each object by its key', () => {
  it('CloudTrail, Config and VPC flow objects of one bucket reach three tables; the digest is dropped; an unknown object goes to the unknown table', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'aws-controltower-logs');
    await putObject(peers.moto, bucket, `o-abc123def4/${CLOUDTRAIL_KEY}`, cloudTrailBody(['tower-ct-1', 'tower-ct-2', 'tower-ct-3']));
    await putObject(peers.moto, bucket, `${PREFIX}/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_x_20240501T130000Z.json.gz`, JSON.stringify({ logFiles: [] }));
    await putObject(peers.moto, bucket, `o-abc123def4/${CONFIG_KEY}`, configBody(['sg-tower-1', 'sg-tower-2']));
    await putObject(peers.moto, bucket, `o-abc123def4/${VPC_KEY}`, `${VPC_V2_HEADER}\n2 111122223333 eni-tower1 10.0.0.1 10.0.0.2 443 50000 6 1 40 1714564800 1714564860 ACCEPT OK\n`);
    await putObject(peers.moto, bucket, `${PREFIX}/vpcflowlogs/us-east-1/2024/05/01/111122223333_vpcflowlogs_us-east-1_fl-1_20240501T1200Z_h.log.parquet`, vpcParquet(3, { prefix: 'tower' }).body, false);
    await putObject(peers.moto, bucket, 'o-abc123def4/notes/readme.txt', 'not a log\n', false);
    const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_control_tower: { base_url: queueUrl } }), peers.rsyslog);
    expect(run.summary.errors).toEqual([]);
    const tagOf = (tag: string) => run.received.filter((l) => l.tag === tag);
    expect(tagOf('cloud.aws.cloudtrail.events').map((l) => l.event['eventID']).sort()).toEqual(['tower-ct-1', 'tower-ct-2', 'tower-ct-3']);
    expect(tagOf('cloud.aws.configlogs.events').map((l) => l.event['resourceId']).sort()).toEqual(['sg-tower-1', 'sg-tower-2']);
    const flows = tagOf('cloud.aws.vpc.flow');
    expect(flows.map((l) => l.event['interface-id'] ?? l.event['interface_id']).sort()).toEqual(['eni-tower000000000000', 'eni-tower000000000001', 'eni-tower000000000002', 'eni-tower1']);
    expect(tagOf('my.app.sqs.unknown').map((l) => l.message)).toEqual(['not a log']);
    expect(run.received).toHaveLength(3 + 2 + 4 + 1);
    expect(run.logs).toMatch(/skipped objects 1/);
    expect(run.logs).toContain('routes by key: cloudtrail (unseparated_json_processor → cloud.aws.cloudtrail.events)');
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe("custom_service as Devo's template writes it", () => {
  it('filters objects by key and records by a mapped field, fills the routing template from the key, and sends what filters drop to unknown when asked', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'custom-fdr');
    const events = (prefix: string) =>
      [
        { event_simpleName: 'ProcessRollup2', id: `${prefix}-1` },
        { event_simpleName: 'EndOfProcess', id: `${prefix}-2` },
        { event_simpleName: 'DnsRequest', id: `${prefix}-3` },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n');
    await putObject(peers.moto, bucket, 'process_events/2024/05/01/part-0.gz', events('proc'));
    await putObject(peers.moto, bucket, 'network_events/2024/05/01/part-0.gz', events('net'));
    await putObject(peers.moto, bucket, 'AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz', '{"digest":true}');
    await putObject(peers.moto, bucket, 'AWSLogs/1/Config/ConfigWritabilityCheckFile', '', false);
    const custom = { base_url: queueUrl, ...CUSTOM_SERVICE };
    const run = await runOnce(workDir(), sqsConfig(peers.moto, { custom_service: custom }), peers.rsyslog);
    expect(run.summary.errors).toEqual([]);
    const ids = (tag: string) => run.received.filter((l) => l.tag === tag).map((l) => l.event['id']).sort();
    expect(ids('my.app.processevents')).toEqual(['proc-1', 'proc-3']);
    expect(ids('my.app.networkevents')).toEqual(['net-1', 'net-3']);
    expect(run.received).toHaveLength(4);
    expect(run.logs).toMatch(/skipped objects 2, filtered records 2/);

    // The same with send_filtered_out_to_unknown and a per-record template: nothing is dropped.
    const again = await bucketWithQueue(peers.moto, 'custom-unknown');
    await putObject(peers.moto, again.bucket, 'process_events/2024/05/01/part-1.gz', events('u'));
    await putObject(peers.moto, again.bucket, 'AWSLogs/1/CloudTrail-Digest/d.json.gz', '{"digest":true}');
    const second = await runOnce(
      workDir(),
      sqsConfig(peers.moto, { custom_service: { ...custom, base_url: again.queueUrl, send_filtered_out_to_unknown: true, routing_template: 'my.app.[file-log_type].[record-event_simpleName]' } }),
      peers.rsyslog,
    );
    const tags = second.received.map((l) => `${l.tag} ${String(l.event['id'] ?? l.event['digest'])}`).sort();
    expect(tags).toEqual(['my.app.processevents.DnsRequest u-3', 'my.app.processevents.ProcessRollup2 u-1', 'my.app.sqs.unknown true', 'my.app.sqs.unknown u-2']);
  });

  it('any catalogue service takes the same keys: a line filter on aws_sqs_cloudtrail drops records by a nested field', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'trail-filtered');
    await putObject(peers.moto, bucket, CLOUDTRAIL_KEY, cloudTrailBody(['keep-1', 'keep-2']).replace('"eventID":"keep-2"', '"eventID":"drop-2"'));
    const run = await runOnce(
      workDir(),
      sqsConfig(peers.moto, {
        aws_sqs_cloudtrail: {
          base_url: queueUrl,
          record_field_mapping: { principal: { keys: ['userIdentity', 'arn'] }, id: { keys: ['eventID'] } },
          line_filter_rules: [[{ key: 'id', type: 'match', pattern: '^drop-' }, { key: 'principal', type: 'contains', value: 'Admin' }]],
        },
      }),
      peers.rsyslog,
    );
    expect(run.received.map((l) => `${l.tag} ${String(l.event['eventID'])}`)).toEqual(['cloud.aws.cloudtrail.events keep-1']);
  });
});

describe('Parquet', () => {
  it('VPC flow logs in Parquet (Snappy and GZIP, several row groups) arrive as one event per row with the file column names', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'flow-parquet');
    const a = vpcParquet(2500, { rowGroupSize: 1000, prefix: 'a' });
    const b = vpcParquet(700, { rowGroupSize: 300, codec: 'GZIP', prefix: 'b' });
    await putObject(peers.moto, bucket, 'AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=05/day=01/123456789012_vpcflowlogs_us-east-1_fl-1_20240501T1200Z_a.log.parquet', a.body, false);
    await putObject(peers.moto, bucket, 'AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/123456789012_vpcflowlogs_us-east-1_fl-1_20240501T1200Z_b.log.parquet', b.body, false);
    const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_vpc: { base_url: queueUrl, events_per_batch: 500 } }), peers.rsyslog);
    expect(run.summary.errors).toEqual([]);
    const ids = run.received.map((l) => String(l.event['interface_id']));
    expect(ids.sort()).toEqual([...a.ids, ...b.ids].sort());
    expect(new Set(ids).size).toBe(3200);
    expect(run.received.every((l) => l.tag === 'cloud.aws.vpc.flow')).toBe(true);
    const first = run.received.find((l) => l.event['interface_id'] === a.ids[5])!;
    expect(first.event).toMatchObject({ version: 2, account_id: '123456789012', srcaddr: '10.0.0.5', dstport: 443, packets: 15, bytes: 4005, start: 1714564800, end: 1714564860, action: 'REJECT', log_status: 'OK' });
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('a Parquet object reaching a text processor is refused (PullError 312): nothing is sent, the message stays for the dead-letter queue', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'parquet-to-text');
    await putObject(peers.moto, bucket, 'flows/object-without-the-extension', vpcParquet(10).body, false);
    const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_vpc: { base_url: queueUrl, sqs_visibility_timeout: 120 } }), peers.rsyslog);
    expect(run.received).toEqual([]);
    expect(run.logs).toMatch(/PullError 312: s3:\/\/parquet-to-text\/flows\/object-without-the-extension is a Parquet object \(PAR1 magic bytes\) and text_file_processor reads text: nothing was sent/);
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 1 });
    // The same object routed to parquet_processor by the operator is read.
    const fixed = await bucketWithQueue(peers.moto, 'parquet-fixed');
    await putObject(peers.moto, fixed.bucket, 'flows/object-without-the-extension', vpcParquet(10).body, false);
    await putObject(peers.moto, fixed.bucket, 'flows/not-parquet.log', `${VPC_V2_HEADER}\n`, false);
    const ok = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_vpc: { base_url: fixed.queueUrl, file_format: { type: 'parquet_processor' } } }), peers.rsyslog);
    expect(ok.received).toHaveLength(10);
    expect(ok.logs).toMatch(/PullError 313: s3:\/\/parquet-fixed\/flows\/not-parquet.log is not a Parquet object/);
  });
});
