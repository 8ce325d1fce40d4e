import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CollectorRuntime } from '@collector/sdk/host';
import { awsSqsCollector, CATALOGUE, effectiveCredentials, regionFromQueueUrl } from '@collector/aws-sqs';
import { workDir } from './helpers.js';
import { CUSTOM_SERVICE } from './samples.js';

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

describe("Devo's catalogue and pipeline keys in the config", () => {
  function runtime(services: Record<string, unknown>, input: Record<string, unknown> = {}) {
    const config = { inputs: { sqs_collector: { id: 1, credentials: {}, ...input, services } } };
    const logs = new PassThrough();
    let text = '';
    logs.on('data', (d) => (text += d));
    return { make: () => new CollectorRuntime(awsSqsCollector, { workDir: workDir(), config: { outputs: { console_1: { type: 'console' } }, ...config }, logStream: logs }), logs: () => text };
  }

  it('an unknown service name is ConfigError 12 listing the known names (nothing is silently ignored)', async () => {
    const line = await errorLine(Promise.resolve().then(() => runtime({ aws_sqs_cloudtrial: { base_url: QUEUE } }).make()));
    expect(line).toMatch(/^ConfigError 12: Unknown service <aws_sqs_cloudtrial>; the known services of inputs\.sqs_collector are: aws_sqs_cloudtrail, aws_sqs_cloudtrail_kinesis, .*aws_sqs_alb, .*aws_sqs_guard_duty, .*custom_service.* \(inputs.sqs_collector.services.aws_sqs_cloudtrial\)$/);
  });

  it("accepts every catalogue service, the alias aws_sqs_fdr_large and Devo's custom_service template", async () => {
    const services: Record<string, Record<string, unknown>> = Object.fromEntries([...Object.keys(CATALOGUE), 'aws_sqs_fdr_large'].map((s) => [s, { base_url: QUEUE, ack_messages: true }]));
    services['custom_service'] = { base_url: QUEUE, ack_messages: true, ...CUSTOM_SERVICE };
    const r = runtime(services);
    await expect(r.make().validate()).resolves.toBeUndefined();
    expect(r.logs()).not.toMatch(/Unknown setting/);
    expect(r.logs()).toContain('Pipeline: line_split_processor → my.app.[file-log_type]');
  });

  it.each([
    [{ file_format: { type: 'csv_processor' } }, /^InitVariablesError 9: Unknown processor <csv_processor>; known processors: split_or_unseparated_processor, .*parquet_processor \(inputs.sqs_collector.services.custom_service.file_format.type\)$/],
    [{ file_format: { type: 'line_split_processor', config: { chunks: { indices: [1, 2] } } } }, /^InitVariablesError 10: line_split_processor has no option <chunks>; its options: json \(.*file_format.config.chunks\)$/],
    [{ file_format: { type: 'text_file_processor', config: { header: 'yes' } } }, /^InitVariablesError 10: text_file_processor option <header> must be a boolean/],
    [{ filename_filter_rules: [[{ type: 'glob', pattern: '*' }]] }, /^InitVariablesError 11: Invalid filter rule: unknown rule type <glob>.* \(inputs.sqs_collector.services.custom_service.filename_filter_rules\[0\]\[0\].type\)$/],
    [{ line_filter_rules: [[{ source: 'line', type: 'match', pattern: '(' }]] }, /^InitVariablesError 11: Invalid filter rule: <\(> is not a regular expression/],
    [{ line_filter_rules: [[{ source: 'record', type: 'match' }]] }, /^InitVariablesError 11: Invalid filter rule: a rule on source record names the field in key/],
    [{ file_field_definitions: { t: [{ operator: 'explode' }] } }, /^InitVariablesError 12: Invalid file_field_definitions: unknown operator <explode>/],
    [{ routing_template: 'my.app.[file-log_type]' }, /^InitVariablesError 13: Invalid routing_template: <\[file-log_type\]> names no file_field_definitions entry \(known: none\)/],
    [{ encoding: 'bzip2' }, /^InitVariablesError 14: encoding <bzip2> must be one of gzip, none, utf-8, latin-1/],
    [{ record_field_mapping: { x: { keys: [] } } }, /^InitVariablesError 15: Invalid record_field_mapping: keys is a non-empty list/],
  ])('rejects the pipeline keys %j', async (keys, message) => {
    expect(await errorLine(runtime({ custom_service: { base_url: QUEUE, ...keys } }).make().validate())).toMatch(message);
  });

  it('ack_messages false (or missing) is a warning at start that says what happens', async () => {
    const r = runtime({ aws_sqs_alb: { base_url: QUEUE } });
    await r.make().validate();
    expect(r.logs()).toMatch(/WARNING.*ack_messages is false \(TESTING MODE\): no message is ever deleted; every message is received again after its visibility timeout \(120 s\)/);
    const quiet = runtime({ aws_sqs_alb: { base_url: QUEUE, ack_messages: true } });
    await quiet.make().validate();
    expect(quiet.logs()).not.toMatch(/TESTING MODE/);
  });
});

describe('credentials as operators write them', () => {
  it("empty values are absent: Devo's template with empty strings validates (default chain)", async () => {
    await expect(validate({}, { aws_access_key_id: '', aws_secret_access_key: '', aws_base_account_role: '', aws_cross_account_role: '', aws_external_id: '' })).resolves.toBeUndefined();
    expect(effectiveCredentials({ credentials: { aws_access_key_id: '', aws_secret_access_key: '' } })).toEqual({});
  });

  it('keys at the input level (the manual\'s flat table) are used; a non-empty value in credentials: wins; half keys are still InitVariablesError 7', async () => {
    expect(effectiveCredentials({ aws_access_key_id: 'AKIAFLAT', aws_secret_access_key: 'flat-secret', aws_cross_account_role: 'arn:aws:iam::1:role/r', credentials: {} })).toEqual({
      aws_access_key_id: 'AKIAFLAT',
      aws_secret_access_key: 'flat-secret',
      aws_cross_account_role: 'arn:aws:iam::1:role/r',
    });
    expect(effectiveCredentials({ aws_access_key_id: 'AKIAFLAT', aws_secret_access_key: 'flat-secret', credentials: { aws_access_key_id: 'AKIABLOCK', aws_secret_access_key: 'block-secret', aws_external_id: '' }, aws_external_id: 'ext-1' })).toEqual({
      aws_access_key_id: 'AKIABLOCK',
      aws_secret_access_key: 'block-secret',
      aws_external_id: 'ext-1',
    });
    await expect(validate({}, {}, { aws_access_key_id: 'AKIAFLAT', aws_secret_access_key: 'flat-secret' })).resolves.toBeUndefined();
    expect(await errorLine(validate({}, {}, { aws_access_key_id: 'AKIAFLAT' }))).toMatch(/^InitVariablesError 7/);
  });
});
