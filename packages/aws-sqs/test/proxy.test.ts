import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, startTinyproxy, type MotoServer, type Tinyproxy } from '@collector/testkit';
import { bucketWithQueue, cloudTrailFile, putObject, queueDepth, runOnce, sqsConfig, workDir } from './helpers.js';

/**
 * The AWS SDK's path (STS, SQS, S3) goes through the outbound proxy as the vendor APIs do: tinyproxy with
 * Basic credentials must log a CONNECT to moto, and no_proxy must bypass it. The proxy is given in
 * globals.proxy here (the environment variables are read the same way: SDK proxy tests).
 */
const PASSWORD = 'Aws-Proxy-Pass.4711';
let moto: MotoServer;
let proxy: Tinyproxy;
beforeAll(async () => {
  [moto, proxy] = await Promise.all([startMoto(), startTinyproxy({ user: 'aws-proxy', password: PASSWORD })]);
});
afterAll(async () => {
  await Promise.all([moto?.stop(), proxy?.stop()]);
});

describe('the AWS SDK through an HTTP proxy', () => {
  const motoAuthority = () => new URL(moto.endpoint).host;

  it('STS, SQS and S3 requests tunnel through the proxy; every record arrives; the proxy password is never logged', async () => {
    const trail = await bucketWithQueue(moto, 'proxied-trail');
    const file = cloudTrailFile('px', 40);
    await putObject(moto, trail.bucket, 'AWSLogs/111111111111/CloudTrail/us-east-1/2024/01/01/proxied.json.gz', file.body);
    const config = sqsConfig(moto, { aws_sqs_cloudtrail: { base_url: trail.queueUrl } });
    Object.assign(config.globals, { proxy: { http_proxy: proxy.url, https_proxy: proxy.url } });
    const before = proxy.connects().filter((c) => c === motoAuthority()).length;

    const run = await runOnce(workDir(), config);
    expect(run.summary.errors).toEqual([]);
    expect(run.output.events().map((r) => JSON.parse(r.message).eventID).sort()).toEqual([...file.ids].sort());
    expect(await queueDepth(moto, trail.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(proxy.connects().filter((c) => c === motoAuthority()).length).toBeGreaterThan(before);
    expect(run.logs).toContain(`http:// through http://127.0.0.1:${proxy.port} (with credentials)`);
    expect(run.logs).not.toContain(PASSWORD);
  });

  it('no_proxy bypasses it', async () => {
    const trail = await bucketWithQueue(moto, 'direct-trail');
    const file = cloudTrailFile('dx', 15);
    await putObject(moto, trail.bucket, 'AWSLogs/111111111111/CloudTrail/us-east-1/2024/01/01/direct.json.gz', file.body);
    const config = sqsConfig(moto, { aws_sqs_cloudtrail: { base_url: trail.queueUrl } });
    Object.assign(config.globals, { proxy: { http_proxy: proxy.url, no_proxy: '127.0.0.0/8' } });
    const before = proxy.connects().length;

    const run = await runOnce(workDir(), config);
    expect(run.summary.errors).toEqual([]);
    expect(run.output.events().map((r) => JSON.parse(r.message).eventID).sort()).toEqual([...file.ids].sort());
    expect(proxy.connects().length).toBe(before);
  });
});
