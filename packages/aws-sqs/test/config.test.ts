import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CollectorRuntime } from '@collector/sdk';
import { awsSqsCollector, regionFromQueueUrl } from '@collector/aws-sqs';
import { workDir } from './helpers.js';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/logs';

function validate(service: Record<string, unknown>, credentials: Record<string, unknown> = {}, input: Record<string, unknown> = {}) {
  const config = { inputs: { sqs_collector: { id: 1, credentials, ...input, services: { aws_sqs_cloudtrail: { base_url: QUEUE, ...service } } } } };
  const runtime = new CollectorRuntime(awsSqsCollector, { workDir: workDir(), config: { outputs: { console_1: { type: 'console' } }, ...config }, logStream: new PassThrough() });
  return runtime.validate();
}

/** The one-line form operators see: `<Type> <ID>: <message> (<path>)`. */
async function errorLine(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { toLine?: () => string }).toLine?.() ?? String(error);
  }
  return 'no error';
}

describe('config validation (no network)', () => {
  it('accepts the manual\'s keys and derives the region from the queue URL', async () => {
    await expect(validate({ ack_messages: true, direct_mode: false, do_not_send: false, debug_md5: false, sqs_visibility_timeout: 120, sqs_wait_timeout: 20, sqs_max_messages: 1, compressed_events: false })).resolves.toBeUndefined();
    expect(regionFromQueueUrl(QUEUE)).toBe('eu-west-1');
    expect(regionFromQueueUrl('https://us-west-2.queue.amazonaws.com/1/q')).toBe('us-west-2');
  });

  it.each([
    [{ base_url: 'not a url' }, {}, /InitVariablesError 1: base_url <not a url> is not an SQS queue URL \(inputs.sqs_collector.services.aws_sqs_cloudtrail.base_url\)/],
    [{ base_url: 'https://sqs.example.com/' }, {}, /InitVariablesError 1/],
    [{ base_url: 'https://vpce.example.com/1/q', region: 'Europe' }, {}, /InitVariablesError 2: region <Europe> is not an AWS region/],
    [{ sqs_visibility_timeout: 60 }, {}, /InitVariablesError 3: sqs_visibility_timeout <60> must be between 120 and 43200 seconds/],
    [{ sqs_wait_timeout: 21 }, {}, /InitVariablesError 4/],
    [{ sqs_max_messages: 11 }, {}, /InitVariablesError 5/],
    [{ endpoint_url: 'http://10.0.0.5:4566' }, {}, /InitVariablesError 6: endpoint_url <http:\/\/10.0.0.5:4566> uses plain http to a non-loopback host/],
    [{}, { aws_access_key_id: 'AKIAEXAMPLE' }, /InitVariablesError 7: aws_access_key_id and aws_secret_access_key must be given together \(inputs.sqs_collector.credentials\)/],
    [{ max_receive_count: 0 }, {}, /InitVariablesError 8/],
  ])('rejects %j %j', async (service, credentials, message) => {
    expect(await errorLine(validate(service, credentials))).toMatch(message);
  });

  it('plain http to a custom endpoint is allowed with allow_insecure_http; input-level keys are defaults for services', async () => {
    await expect(validate({ endpoint_url: 'http://10.0.0.5:4566' }, {}, { allow_insecure_http: true })).resolves.toBeUndefined();
    expect(await errorLine(validate({}, {}, { sqs_visibility_timeout: 60 }))).toMatch(/InitVariablesError 3/);
    await expect(validate({ sqs_visibility_timeout: 300 }, {}, { sqs_visibility_timeout: 60 })).resolves.toBeUndefined();
    await expect(validate({ base_url: undefined }, {}, { base_url: QUEUE })).resolves.toBeUndefined();
    expect(await errorLine(validate({ base_url: undefined }))).toBe('InitVariablesError 1: base_url (the queue URL) is missing (inputs.sqs_collector.services.aws_sqs_cloudtrail.base_url)');
  });
});
