import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { CollectorRuntime, createLogger } from '@collector/sdk/host';
import { AssumedRoleProvider, CATALOGUE, QueueWorker, resolveOptions, ServicePipeline, type SqsServiceOptions } from '@collector/aws-sqs';
import { startRsyslog, type MotoServer } from '@collector/testkit';
import { awsSqsCollector } from '@collector/aws-sqs';
import { ACCESS_KEY, aws, bucketWithQueue, cloudTrailFile, eventLines, FAST_RECONNECT, putObject, queueDepth, realPeers, REGION, runOnce, SECRET_KEY, sendMessage, sqsConfig, workDir } from './helpers.js';
import { devoOutputConfig, freePort } from '@collector/testkit';

const peers = realPeers();

function options(queueUrl: string, overrides: Partial<SqsServiceOptions> = {}): SqsServiceOptions {
  const base = resolveOptions({ base_url: queueUrl, region: REGION, endpoint_url: peers.moto.endpoint, ack_messages: true, sqs_wait_timeout: 0 }, { id: '1', enabled: true }, 'inputs.sqs_collector.services.aws_sqs_cloudtrail');
  return { ...base, ...overrides };
}

function worker(queueUrl: string, signal: AbortSignal, emit: (events: readonly unknown[]) => Promise<{ delivered: Promise<void> }>, overrides: Partial<SqsServiceOptions> = {}, logs?: PassThrough) {
  const { s3, sqs } = aws(peers.moto);
  return new QueueWorker({
    sqs,
    s3,
    options: options(queueUrl, overrides),
    pipeline: ServicePipeline.resolve(CATALOGUE['aws_sqs_cloudtrail']!, {}, { region: REGION, account: '123456789012' }, 'inputs.sqs_collector.services.aws_sqs_cloudtrail'),
    log: createLogger({ stream: logs ?? new PassThrough(), debug: true }),
    signal,
    emit,
    suffix: '"@devo_pulling_id":"1"',
    path: 'inputs.sqs_collector.services.aws_sqs_cloudtrail',
  });
}

async function drainTestEvent(queueUrl: string): Promise<void> {
  // peers.moto announces every new notification configuration with an s3:TestEvent.
  await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } }));
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('never losing a message', () => {
  it('a message is not deleted while its events are unacknowledged; released on stop, it is redelivered and completed', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'outage-bucket');
    await drainTestEvent(queueUrl);
    const file = cloudTrailFile('outage', 120);
    await putObject(peers.moto, bucket, 'AWSLogs/1/CloudTrail/us-east-1/2024/01/01/outage.json.gz', file.body);
    // The output is down: events are queued but never acknowledged.
    const stop = new AbortController();
    let emitted = 0;
    const down = worker(queueUrl, stop.signal, async (events) => {
      emitted += events.length;
      return { delivered: new Promise<void>(() => undefined) };
    }, { stopGraceMs: 200 });
    const cycle = down.runCycle();
    await waitFor(() => emitted === 120);
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 1 });
    stop.abort();
    const result = await cycle;
    expect(result).toMatchObject({ received: 1, deleted: 0, released: 1 });
    expect((await queueDepth(peers.moto, queueUrl)).visible).toBe(1);
    // The output is back: the same message is received again and completed.
    const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } }), peers.rsyslog);
    expect(run.received.map((l) => l.event['eventID']).sort()).toEqual([...file.ids].sort());
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('while the Devo receiver is down the message stays in flight; when it comes back every event arrives once and the message is deleted', async () => {
    const receiver = await startRsyslog({ pki: peers.rsyslog.pki });
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'receiver-down-bucket');
    await drainTestEvent(queueUrl);
    const file = cloudTrailFile('down', 80);
    await putObject(peers.moto, bucket, 'AWSLogs/1/CloudTrail/us-east-1/2024/01/01/down.json.gz', file.body);
    await receiver.stop();
    const metricsPort = await freePort();
    const base = sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } });
    const config = { ...base, globals: { ...base.globals, http_server: { enabled: true, address: '127.0.0.1', port: metricsPort } } };
    const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const outputs: Record<string, { config: object }> = devoOutputConfig(receiver);
    Object.assign(outputs['devo_1']!.config, FAST_RECONNECT);
    const runtime = new CollectorRuntime(awsSqsCollector, { workDir: workDir(), config: { ...config, outputs }, logStream: new PassThrough() });
    const running = runtime.run();
    await waitFor(async () => (await queueDepth(peers.moto, queueUrl)).inFlight === 1);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 1 });
    expect(await metrics()).toMatch(/collector_sqs_messages_in_flight\{[^}]*service="aws_sqs_cloudtrail"[^}]*\} 1/);
    await receiver.restart();
    await waitFor(async () => eventLines(receiver.lines()).length >= 80 && (await queueDepth(peers.moto, queueUrl)).inFlight === 0);
    await waitFor(async () => /collector_sqs_messages_deleted_total\{[^}]*\} 1/.test(await metrics()));
    expect(await metrics()).toMatch(/collector_sqs_message_age_seconds\{[^}]*\} \d/);
    await runtime.stop();
    await running;
    const ids = eventLines(receiver.lines()).map((l) => String(l.event['eventID']));
    expect(ids.sort()).toEqual([...file.ids].sort());
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    await receiver.stop();
  });

  it('the visibility heartbeat keeps a slow object from being redelivered', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'slow-bucket');
    await drainTestEvent(queueUrl);
    const file = cloudTrailFile('slow', 10);
    await putObject(peers.moto, bucket, 'AWSLogs/1/CloudTrail/us-east-1/2024/01/01/slow.json.gz', file.body);
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (d) => (logText += d));
    // A 2 s visibility timeout and an output that takes 5 s to acknowledge.
    const slow = worker(queueUrl, new AbortController().signal, async () => ({ delivered: new Promise<void>((r) => setTimeout(r, 5_000)) }), { visibilityTimeout: 2 }, logs);
    const cycle = slow.runCycle();
    await waitFor(async () => (await queueDepth(peers.moto, queueUrl)).inFlight === 1);
    // Meanwhile another consumer polls the queue: it must never get the message.
    const { sqs } = aws(peers.moto);
    const stolen: string[] = [];
    const deadline = Date.now() + 4_500;
    while (Date.now() < deadline) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, VisibilityTimeout: 0 }));
      for (const m of r.Messages ?? []) stolen.push(m.MessageId!);
    }
    const result = await cycle;
    expect(stolen).toEqual([]);
    expect(result).toMatchObject({ received: 1, deleted: 1, events: 10 });
    expect(logText).toMatch(/visibility extended by 2 s/);
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('a poison message (received more than max_receive_count times) is logged, then left or deleted as configured', async () => {
    const { queueUrl } = await bucketWithQueue(peers.moto, 'poison-bucket');
    await drainTestEvent(queueUrl);
    const { sqs } = aws(peers.moto);
    const poison = async () => {
      await sendMessage(peers.moto, queueUrl, { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'poison-bucket' }, object: { key: 'missing' } } }] });
      // Two receives that never finish the message: the collector's receive is the third.
      for (let i = 0; i < 2; i++) await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, VisibilityTimeout: 0 }));
    };
    await poison();
    const deleted = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl, max_receive_count: 2, delete_poison_messages: true } }));
    expect(deleted.logs).toMatch(/PullError 321: Message \S+ was received 3 times \(max_receive_count 2\): deleted \(delete_poison_messages\)/);
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    await poison();
    const left = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl, max_receive_count: 2 } }));
    expect(left.logs).toMatch(/PullError 321: Message \S+ was received 3 times \(max_receive_count 2\): left to the queue's dead-letter policy/);
    expect(await queueDepth(peers.moto, queueUrl)).toEqual({ visible: 0, inFlight: 1 });
  });
});

/** A recording HTTP proxy in front of peers.moto: the test sees every request the collector makes. */
async function recordingProxy(target: MotoServer): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body.toString('utf8'));
      const forward = request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers }, (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      });
      forward.on('error', () => res.writeHead(502).end());
      forward.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('credentials', () => {
  it('assumes the cross-account role with the external id, and collects with the role credentials', async () => {
    const proxy = await recordingProxy(peers.moto);
    try {
      const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'role-bucket');
      const file = cloudTrailFile('role', 5);
      await putObject(peers.moto, bucket, 'AWSLogs/1/CloudTrail/us-east-1/2024/01/01/role.json.gz', file.body);
      const config = sqsConfig(
        peers.moto,
        { aws_sqs_cloudtrail: { base_url: queueUrl, endpoint_url: proxy.url } },
        { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY, aws_cross_account_role: 'arn:aws:iam::123456789012:role/devo-reader', aws_external_id: 'ext-Secret-42' },
      );
      const run = await runOnce(workDir(), config, peers.rsyslog);
      expect(run.summary.errors).toEqual([]);
      expect(run.received.map((l) => l.event['eventID']).sort()).toEqual([...file.ids].sort());
      const assume = proxy.bodies.find((b) => b.includes('Action=AssumeRole'));
      expect(assume).toBeDefined();
      const params = new URLSearchParams(assume!);
      expect(params.get('RoleArn')).toBe('arn:aws:iam::123456789012:role/devo-reader');
      expect(params.get('ExternalId')).toBe('ext-Secret-42');
      expect(run.logs).not.toContain('ext-Secret-42');
      expect(run.logs).not.toContain(SECRET_KEY);
    } finally {
      await proxy.close();
    }
  });

  it('with an empty credentials block, the AWS SDK default chain (here: the environment) is used', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(peers.moto, 'default-chain-bucket');
    const file = cloudTrailFile('chain', 3);
    await putObject(peers.moto, bucket, 'AWSLogs/1/CloudTrail/us-east-1/2024/01/01/chain.json.gz', file.body);
    const saved = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
    process.env['AWS_ACCESS_KEY_ID'] = ACCESS_KEY;
    process.env['AWS_SECRET_ACCESS_KEY'] = SECRET_KEY;
    try {
      const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl } }, {}), peers.rsyslog);
      expect(run.summary.errors).toEqual([]);
      expect(run.logs).toContain('AWS credentials: the default credential provider chain');
      expect(run.received.map((l) => l.event['eventID']).sort()).toEqual([...file.ids].sort());
    } finally {
      if (saved.id === undefined) delete process.env['AWS_ACCESS_KEY_ID'];
      else process.env['AWS_ACCESS_KEY_ID'] = saved.id;
      if (saved.secret === undefined) delete process.env['AWS_SECRET_ACCESS_KEY'];
      else process.env['AWS_SECRET_ACCESS_KEY'] = saved.secret;
    }
  });

  it('refreshes the role credentials before they expire, once for many callers', async () => {
    let clock = Date.now();
    const source = async () => ({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
    const role = new AssumedRoleProvider(source, 'arn:aws:iam::222222222222:role/r', { externalId: 'x', sessionName: 's', durationSeconds: 900, sts: { region: REGION, endpoint: peers.moto.endpoint }, now: () => clock });
    const first = await role.provide();
    expect(await role.provide()).toBe(first);
    expect(role.assumeCount).toBe(1);
    // One minute before expiry: within the refresh margin.
    expect(first.expiration).toBeInstanceOf(Date);
    clock = first.expiration!.getTime() - 60_000;
    const again = await Promise.all([role.provide(), role.provide(), role.provide()]);
    expect(role.assumeCount).toBe(2);
    expect(again[0]!.accessKeyId).not.toBe(first.accessKeyId);
    role.destroy();
  });

  it('a wrong access key is SetupError 100 and the secret never appears', async () => {
    const { queueUrl } = await bucketWithQueue(peers.moto, 'setup-bucket');
    // peers.moto accepts any key unless IAM enforcement is on, so ask STS through a proxy that answers 403.
    const denied = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/xml' }).end('<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>1</RequestId></ErrorResponse>');
    });
    await new Promise<void>((r) => denied.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(denied.address() as AddressInfo).port}`;
      const run = await runOnce(workDir(), sqsConfig(peers.moto, { aws_sqs_cloudtrail: { base_url: queueUrl, endpoint_url: url } }));
      expect(run.summary.ok).toBe(false);
      expect(run.summary.errors.join('\n')).toMatch(/SetupError 100: AWS rejected the credentials: InvalidClientTokenId/);
      expect(run.logs).not.toContain(SECRET_KEY);
    } finally {
      await new Promise<void>((r) => denied.close(() => r()));
    }
  });
});
