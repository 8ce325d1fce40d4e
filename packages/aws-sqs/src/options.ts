import { isLoopbackHost, type InputConfig } from '@collector/sdk';
import { DEFAULTS, effectiveCredentials, type SqsServiceOptions } from './config.js';
import { awsSqsErrors as errors } from './errors.js';
import { defaultProcessingThreads } from './processing-pool.js';

const REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

/** `sqs.<region>.amazonaws.com[.cn]` or the legacy `<region>.queue.amazonaws.com`. */
export function regionFromQueueUrl(url: string): string | undefined {
  try {
    const host = new URL(url).hostname;
    return /^sqs[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(host)?.[1] ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com/.exec(host)?.[1];
  } catch {
    return undefined;
  }
}

/** The endpoint for one AWS service: config key, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL. */
export function endpointFor(service: 'SQS' | 'S3' | 'STS', configured: string | undefined, env = process.env): string | undefined {
  return configured ?? env[`AWS_ENDPOINT_URL_${service}`] ?? env['AWS_ENDPOINT_URL'] ?? undefined;
}

function checkUrl(value: string, path: string, insecureAllowed: boolean, error: (why: string) => Error): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw error('is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw error('must be an https:// URL');
  if (url.protocol === 'http:' && !insecureAllowed && !isLoopbackHost(url.hostname)) throw error('uses plain http to a non-loopback host (set allow_insecure_http: true to allow it)');
  void path;
  return url;
}

/** Service value, else input-level value, else the default. */
function pick<T>(service: Record<string, unknown>, input: InputConfig, key: string, fallback: T): T {
  const fromService = service[key];
  if (fromService !== undefined && fromService !== null) return fromService as T;
  const fromInput = input[key];
  if (fromInput !== undefined && fromInput !== null) return fromInput as T;
  return fallback;
}

function integerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** Resolves and checks a service's options (`init_variables`); throws the documented InitVariablesError. */
export function resolveOptions(raw: Record<string, unknown>, input: InputConfig, path: string): SqsServiceOptions {
  const credentials = effectiveCredentials(input);
  if (Boolean(credentials['aws_access_key_id']) !== Boolean(credentials['aws_secret_access_key'])) {
    throw errors.halfKeys({ path: path.replace(/\.services\..*$/, '.credentials') });
  }
  const insecure = input['allow_insecure_http'] === true;
  const queueUrl = pick<string | undefined>(raw, input, 'base_url', undefined);
  if (!queueUrl) throw errors.missingQueueUrl({ path: `${path}.base_url` });
  const parsed = checkUrl(queueUrl, `${path}.base_url`, insecure, () => errors.badQueueUrl({ value: queueUrl, path: `${path}.base_url` }));
  if (parsed.pathname.split('/').filter(Boolean).length < 2) throw errors.badQueueUrl({ value: queueUrl, path: `${path}.base_url` });
  const region = pick<string | undefined>(raw, input, 'region', undefined) ?? regionFromQueueUrl(queueUrl) ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  if (!region || !REGION.test(region)) throw errors.badRegion({ value: String(region), path: `${path}.region` });
  const endpointUrl = endpointFor('SQS', pick<string | undefined>(raw, input, 'endpoint_url', undefined));
  if (endpointUrl) checkUrl(endpointUrl, `${path}.endpoint_url`, insecure, (why) => errors.endpoint({ value: endpointUrl, why, path: `${path}.endpoint_url` }));
  const visibilityTimeout = pick<number>(raw, input, 'sqs_visibility_timeout', DEFAULTS.sqs_visibility_timeout);
  if (!integerIn(visibilityTimeout, 120, 43200)) throw errors.visibility({ value: String(visibilityTimeout), path: `${path}.sqs_visibility_timeout` });
  const waitTimeSeconds = pick<number>(raw, input, 'sqs_wait_timeout', DEFAULTS.sqs_wait_timeout);
  if (!integerIn(waitTimeSeconds, 0, 20)) throw errors.waitTime({ value: String(waitTimeSeconds), path: `${path}.sqs_wait_timeout` });
  const maxMessages = pick<number>(raw, input, 'sqs_max_messages', DEFAULTS.sqs_max_messages);
  if (!integerIn(maxMessages, 1, 10)) throw errors.maxMessages({ value: String(maxMessages), path: `${path}.sqs_max_messages` });
  const maxMessagesInFlight = pick<number>(raw, input, 'max_messages_in_flight', DEFAULTS.max_messages_in_flight);
  if (!integerIn(maxMessagesInFlight, 1, 1000)) throw errors.positive({ key: 'max_messages_in_flight', value: String(maxMessagesInFlight), path: `${path}.max_messages_in_flight` });
  const maxReceiveCount = pick<number>(raw, input, 'max_receive_count', DEFAULTS.max_receive_count);
  if (!integerIn(maxReceiveCount, 1, 1000)) throw errors.positive({ key: 'max_receive_count', value: String(maxReceiveCount), path: `${path}.max_receive_count` });
  return {
    queueUrl,
    region,
    endpointUrl,
    ackMessages: pick(raw, input, 'ack_messages', DEFAULTS.ack_messages),
    directMode: pick(raw, input, 'direct_mode', DEFAULTS.direct_mode),
    doNotSend: pick(raw, input, 'do_not_send', DEFAULTS.do_not_send),
    debugMd5: pick(raw, input, 'debug_md5', DEFAULTS.debug_md5),
    visibilityTimeout,
    waitTimeSeconds,
    maxMessages,
    compressedEvents: pick(raw, input, 'compressed_events', DEFAULTS.compressed_events),
    maxMessagesInFlight,
    maxReceiveCount,
    deletePoisonMessages: pick(raw, input, 'delete_poison_messages', DEFAULTS.delete_poison_messages),
    eventsPerBatch: pick(raw, input, 'events_per_batch', DEFAULTS.events_per_batch),
    vpcFields: pick<string[] | undefined>(raw, input, 'vpc_fields', undefined),
    stopGraceMs: pick<number>(raw, input, 'stop_grace_seconds', DEFAULTS.stop_grace_seconds) * 1000,
    processingThreads: pick<number>(raw, input, 'processing_threads', defaultProcessingThreads()),
  };
}
