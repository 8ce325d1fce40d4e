import { defineErrors } from '@collector/sdk';
import { bindConfigErrors } from './config-errors.js';

const DEAD_LETTER = 'the message is retried and then left to the dead-letter queue';

/**
 * The error table of the AWS SQS collector. The Python collector's manual has no troubleshooting table, so
 * these IDs are ours: InitVariablesError 1–19 (config values, 9–15 the declarative pipeline), SetupError
 * 100–119 (credentials and roles), PullError 300–339 (queue, objects, notifications). What AWS answered is
 * part of the message after a colon (`{error}`), as operators have grepped it so far. The README's error
 * table is rendered from this declaration (`pnpm docs`).
 */
export const awsSqsErrors = defineErrors({
  missingQueueUrl: {
    type: 'InitVariablesError', id: 1,
    message: 'base_url (the queue URL) is missing',
    path: '{path}',
    cause: '`base_url` is missing',
    remedy: 'Set base_url to the queue URL shown in the SQS console: https://sqs.<region>.amazonaws.com/<account>/<queue>',
  },
  badQueueUrl: {
    type: 'InitVariablesError', id: 1, sameIdAs: 'missingQueueUrl',
    message: 'base_url <{value}> is not an SQS queue URL',
    path: '{path}',
    cause: '`base_url` is not a queue URL (`https://host/<account>/<queue>`)',
    remedy: 'Set base_url to the queue URL shown in the SQS console: https://sqs.<region>.amazonaws.com/<account>/<queue>',
  },
  badRegion: {
    type: 'InitVariablesError', id: 2,
    message: 'region <{value}> is not an AWS region',
    path: '{path}',
    cause: '`region` missing (and not in `base_url`/`AWS_REGION`) or malformed',
    remedy: 'Set region to the region in the queue URL, e.g. us-east-1',
  },
  visibility: {
    type: 'InitVariablesError', id: 3,
    message: 'sqs_visibility_timeout <{value}> must be between 120 and 43200 seconds',
    path: '{path}',
    cause: '`sqs_visibility_timeout` not within 120–43200',
    remedy: 'Set sqs_visibility_timeout between 120 and 43200 seconds, longer than the slowest object takes',
  },
  waitTime: {
    type: 'InitVariablesError', id: 4,
    message: 'sqs_wait_timeout <{value}> must be between 0 and 20 seconds',
    path: '{path}',
    cause: '`sqs_wait_timeout` not within 0–20',
    remedy: 'Set sqs_wait_timeout between 0 and 20 seconds (20 is the long-polling maximum)',
  },
  maxMessages: {
    type: 'InitVariablesError', id: 5,
    message: 'sqs_max_messages <{value}> must be between 1 and 10',
    path: '{path}',
    cause: '`sqs_max_messages` not within 1–10',
    remedy: 'Set sqs_max_messages between 1 and 10',
  },
  endpoint: {
    type: 'InitVariablesError', id: 6,
    message: 'endpoint_url <{value}> {why}',
    path: '{path}',
    cause: '`endpoint_url`/`base_url` not a URL, or plain http to a non-loopback host',
    remedy: 'Use an https:// endpoint_url, or plain http only to a loopback address or with allow_insecure_http: true',
  },
  halfKeys: {
    type: 'InitVariablesError', id: 7,
    message: 'aws_access_key_id and aws_secret_access_key must be given together',
    path: '{path}',
    cause: 'only one of `aws_access_key_id` / `aws_secret_access_key`',
    remedy: 'Give both aws_access_key_id and aws_secret_access_key, or neither',
  },
  positive: {
    type: 'InitVariablesError', id: 8,
    message: '{key} <{value}> must be a positive integer',
    path: '{path}',
    cause: '`max_messages_in_flight` / `max_receive_count` not a positive integer',
    remedy: 'Use positive integers for max_messages_in_flight and max_receive_count',
  },
  processor: {
    type: 'InitVariablesError', id: 9,
    message: 'Unknown processor <{value}>; known processors: {known}',
    path: '{path}',
    cause: '`file_format.type` is not a processor (the message lists them)',
    remedy: 'Use one of the processors listed in the README ("Processors") as file_format.type',
  },
  processorOption: {
    type: 'InitVariablesError', id: 10,
    message: '{why}',
    path: '{path}',
    cause: 'a `file_format.config` option the processor does not have, or of the wrong type (the message lists its options)',
    remedy: 'Give file_format.config only the options the README lists for that processor, with the listed types',
  },
  rule: {
    type: 'InitVariablesError', id: 11,
    message: 'Invalid filter rule: {why}',
    path: '{path}',
    cause: 'a filter rule: unknown `type` or `source`, no `pattern`/`value`, a `pattern` that is not a regular expression, `source: record/file` without `key`',
    remedy: 'Write filter rules as a list of lists of {type, pattern | value[, source, key]} (README "Filters")',
  },
  fileField: {
    type: 'InitVariablesError', id: 12,
    message: 'Invalid file_field_definitions: {why}',
    path: '{path}',
    cause: '`file_field_definitions`: unknown operator or missing argument',
    remedy: 'Write file_field_definitions as {field: [{operator: split, on, element} | {operator: replace, to_replace, replace_with} | {operator: regex, pattern, group} | {operator: lowercase}]}',
  },
  template: {
    type: 'InitVariablesError', id: 13,
    message: 'Invalid routing_template: {why}',
    path: '{path}',
    cause: '`routing_template` empty, or a `[file-x]` / `[record-x]` placeholder naming no defined field',
    remedy: 'Use only [file-<field>] placeholders defined in file_field_definitions and [record-<field>] ones defined in record_field_mapping',
  },
  encoding: {
    type: 'InitVariablesError', id: 14,
    message: 'encoding <{value}> must be one of gzip, none, utf-8, latin-1',
    path: '{path}',
    cause: '`encoding` not one of `gzip`, `none`, `utf-8`, `latin-1`',
    remedy: 'Set encoding to gzip, none, utf-8 or latin-1',
  },
  recordMapping: {
    type: 'InitVariablesError', id: 15,
    message: 'Invalid record_field_mapping: {why}',
    path: '{path}',
    cause: '`record_field_mapping` entry without a `keys` list',
    remedy: 'Write record_field_mapping as {field: {keys: [key, nested key, ...]}}',
  },
  rejected: {
    type: 'SetupError', id: 100,
    message: 'AWS rejected the credentials: {error}',
    cause: 'AWS rejected the credentials (`InvalidClientTokenId`, `SignatureDoesNotMatch`, expired token)',
    remedy: 'Check aws_access_key_id / aws_secret_access_key (or the default credential chain): AWS rejected them',
  },
  assumeRoleDenied: {
    type: 'SetupError', id: 101,
    message: 'AssumeRole of <{role}> was denied: {error}',
    cause: 'AssumeRole denied (`AccessDenied`: trust policy, wrong `aws_external_id`, missing `sts:AssumeRole`)',
    remedy: 'Check the role ARNs, the trust policy of the roles and aws_external_id: AssumeRole was denied',
  },
  noCredentials: {
    type: 'SetupError', id: 102,
    message: 'No AWS credentials found: {error}',
    cause: 'the default chain found no credentials',
    remedy: 'Give credentials in the config, or make the default chain find some (AWS_* variables, profile, container or instance role)',
  },
  unreachable: {
    type: 'SetupError', id: 103,
    message: 'AWS could not be reached: {error}',
    cause: 'STS unreachable (without roles only a warning: SQS/S3 may still be reachable)',
    remedy: 'Check the network, proxy and endpoint_url.',
    retryable: true,
  },
  noQueue: {
    type: 'PullError', id: 300,
    message: 'The queue <{url}> does not exist',
    path: '{path}',
    cause: 'the queue does not exist (`QueueDoesNotExist`)',
    remedy: 'Check base_url: the queue does not exist in this account and region',
  },
  queueDenied: {
    type: 'PullError', id: 301,
    message: 'Access to the queue <{url}> was denied: {error}',
    path: '{path}',
    cause: 'access to the queue denied',
    remedy: 'Grant sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes on the queue (README "IAM policy")',
  },
  sqsFailed: {
    type: 'PullError', id: 302,
    message: 'SQS {operation} failed: {error}',
    path: '{path}',
    cause: "SQS keeps failing after the AWS SDK's retries (network, throttling, 5xx)",
    remedy: 'Check the network and the AWS status page.',
    retryable: true,
  },
  objectDenied: {
    type: 'PullError', id: 310,
    message: 'Cannot get {location}: {error}',
    cause: '`GetObject` failed (`AccessDenied`, KMS, bucket missing) — per message, logged',
    remedy: `Grant s3:GetObject on the bucket (and kms:Decrypt for SSE-KMS objects); ${DEAD_LETTER}`,
  },
  objectUnreadable: {
    type: 'PullError', id: 311,
    message: 'Cannot read {location}: {error}',
    cause: 'an object could not be read: truncated gzip, malformed JSON (`malformed JSON at byte N`), connection lost mid-object, or a single record (line or JSON record) over 16 MiB (`a record larger than 16777216 bytes`: a gzip bomb or a corrupt object; records are held whole, objects never are), or a processing thread that died (`the processing thread exited`) — per message, logged',
    remedy: `Check the producer; ${DEAD_LETTER}`,
  },
  parquetToText: {
    type: 'PullError', id: 312,
    message: '{location} is a Parquet object (PAR1 magic bytes) and {processor} reads text: nothing was sent',
    cause: 'a Parquet object (magic bytes `PAR1`) reached a text processor: nothing is sent',
    remedy: `Use a service (or file_format.type) with parquet_processor for .parquet keys; ${DEAD_LETTER}`,
  },
  notParquet: {
    type: 'PullError', id: 313,
    message: '{location} is not a Parquet object (no PAR1 magic bytes): nothing was sent',
    cause: 'an object that is not Parquet reached `parquet_processor`',
    remedy: 'Route it to a service with a text processor',
  },
  notANotification: {
    type: 'PullError', id: 320,
    message: 'Message {messageId} is not an S3 notification: {error}',
    cause: 'a message that is not an S3/SNS/EventBridge notification — logged, left to the dead-letter policy',
    remedy: 'Check what publishes to the queue, or use direct_mode',
  },
  poison: {
    type: 'PullError', id: 321,
    message: 'Message {messageId} was received {count} times (max_receive_count {max}): {action}',
    cause: 'poison message (received more than `max_receive_count` times) — logged, left or deleted',
    remedy: 'Inspect it in the dead-letter queue',
  },
});

bindConfigErrors(awsSqsErrors);
