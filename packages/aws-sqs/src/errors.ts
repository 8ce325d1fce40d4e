import { InitVariablesError, PullError, SetupError } from '@collector/sdk';

/**
 * The error table of the AWS SQS collector (README "Errors"). The Python collector's manual has no
 * troubleshooting table, so these IDs are ours: InitVariablesError 1–19 (config values, 9–15 the declarative pipeline), SetupError
 * 100–119 (credentials and roles), PullError 300–339 (queue, objects, notifications).
 */
export const remedies: Record<string, string> = {
  'InitVariablesError 1': 'Set base_url to the queue URL shown in the SQS console: https://sqs.<region>.amazonaws.com/<account>/<queue>',
  'InitVariablesError 2': 'Set region to the region in the queue URL, e.g. us-east-1',
  'InitVariablesError 3': 'Set sqs_visibility_timeout between 120 and 43200 seconds, longer than the slowest object takes',
  'InitVariablesError 4': 'Set sqs_wait_timeout between 0 and 20 seconds (20 is the long-polling maximum)',
  'InitVariablesError 5': 'Set sqs_max_messages between 1 and 10',
  'InitVariablesError 6': 'Use an https:// endpoint_url, or plain http only to a loopback address or with allow_insecure_http: true',
  'InitVariablesError 7': 'Give both aws_access_key_id and aws_secret_access_key, or neither',
  'InitVariablesError 8': 'Use positive integers for max_messages_in_flight and max_receive_count',
  'InitVariablesError 9': 'Use one of the processors listed in the README ("Processors") as file_format.type',
  'InitVariablesError 10': 'Give file_format.config only the options the README lists for that processor, with the listed types',
  'InitVariablesError 11': 'Write filter rules as a list of lists of {type, pattern | value[, source, key]} (README "Filters")',
  'InitVariablesError 12': 'Write file_field_definitions as {field: [{operator: split, on, element} | {operator: replace, to_replace, replace_with} | {operator: regex, pattern, group} | {operator: lowercase}]}',
  'InitVariablesError 13': 'Use only [file-<field>] placeholders defined in file_field_definitions and [record-<field>] ones defined in record_field_mapping',
  'InitVariablesError 14': 'Set encoding to gzip, none, utf-8 or latin-1',
  'InitVariablesError 15': 'Write record_field_mapping as {field: {keys: [key, nested key, ...]}}',
  'SetupError 100': 'Check aws_access_key_id / aws_secret_access_key (or the default credential chain): AWS rejected them',
  'SetupError 101': 'Check the role ARNs, the trust policy of the roles and aws_external_id: AssumeRole was denied',
  'SetupError 102': 'Give credentials in the config, or make the default chain find some (AWS_* variables, profile, container or instance role)',
  'SetupError 103': 'AWS could not be reached: check the network, proxy and endpoint_url',
  'PullError 300': 'Check base_url: the queue does not exist in this account and region',
  'PullError 301': 'Grant sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes on the queue (README "IAM policy")',
  'PullError 302': 'SQS requests keep failing: check the network and the AWS status page; the collector retries every cycle',
  'PullError 310': 'Grant s3:GetObject on the bucket (and kms:Decrypt for SSE-KMS objects); the message is retried and then left to the dead-letter queue',
  'PullError 311': 'The object could not be read or decoded (truncated gzip, malformed JSON): check the producer; the message is retried and then left to the dead-letter queue',
  'PullError 312': 'The object is Parquet but the service reads text: use a service (or file_format.type) with parquet_processor; the message is retried and then left to the dead-letter queue',
  'PullError 313': 'The object is not Parquet (no PAR1 magic bytes) but the service uses parquet_processor: route it to a text processor',
  'PullError 320': 'The message is not an S3, SNS or EventBridge notification: check what publishes to the queue, or use direct_mode',
  'PullError 321': 'A message was received more than max_receive_count times: inspect it in the dead-letter queue',
};

export const configErrors = {
  missingQueueUrl: (path: string) => new InitVariablesError(1, 'base_url (the queue URL) is missing', { path }),
  badQueueUrl: (value: string, path: string) => new InitVariablesError(1, `base_url <${value}> is not an SQS queue URL`, { path }),
  badRegion: (value: unknown, path: string) => new InitVariablesError(2, `region <${String(value)}> is not an AWS region`, { path }),
  visibility: (value: unknown, path: string) => new InitVariablesError(3, `sqs_visibility_timeout <${String(value)}> must be between 120 and 43200 seconds`, { path }),
  waitTime: (value: unknown, path: string) => new InitVariablesError(4, `sqs_wait_timeout <${String(value)}> must be between 0 and 20 seconds`, { path }),
  maxMessages: (value: unknown, path: string) => new InitVariablesError(5, `sqs_max_messages <${String(value)}> must be between 1 and 10`, { path }),
  endpoint: (value: string, path: string, why: string) => new InitVariablesError(6, `endpoint_url <${value}> ${why}`, { path }),
  halfKeys: (path: string) => new InitVariablesError(7, 'aws_access_key_id and aws_secret_access_key must be given together', { path }),
  positive: (key: string, value: unknown, path: string) => new InitVariablesError(8, `${key} <${String(value)}> must be a positive integer`, { path }),
  processor: (value: unknown, known: string[], path: string) => new InitVariablesError(9, `Unknown processor <${String(value)}>; known processors: ${known.join(', ')}`, { path }),
  processorOption: (path: string, why: string) => new InitVariablesError(10, why, { path }),
  rule: (path: string, why: string) => new InitVariablesError(11, `Invalid filter rule: ${why}`, { path }),
  fileField: (path: string, why: string) => new InitVariablesError(12, `Invalid file_field_definitions: ${why}`, { path }),
  template: (path: string, why: string) => new InitVariablesError(13, `Invalid routing_template: ${why}`, { path }),
  encoding: (value: unknown, path: string) => new InitVariablesError(14, `encoding <${String(value)}> must be one of gzip, none, utf-8, latin-1`, { path }),
  recordMapping: (path: string, why: string) => new InitVariablesError(15, `Invalid record_field_mapping: ${why}`, { path }),
};

export const setupErrors = {
  rejected: (detail: string) => new SetupError(100, `AWS rejected the credentials: ${detail}`, { remedy: remedies['SetupError 100'] }),
  assumeRoleDenied: (role: string, detail: string) => new SetupError(101, `AssumeRole of <${role}> was denied: ${detail}`, { remedy: remedies['SetupError 101'] }),
  noCredentials: (detail: string) => new SetupError(102, `No AWS credentials found: ${detail}`, { remedy: remedies['SetupError 102'] }),
  unreachable: (detail: string) => new SetupError(103, `AWS could not be reached: ${detail}`, { retryable: true, remedy: remedies['SetupError 103'] }),
};

export const pullErrors = {
  noQueue: (url: string, path: string) => new PullError(300, `The queue <${url}> does not exist`, { path, remedy: remedies['PullError 300'] }),
  queueDenied: (url: string, detail: string, path: string) => new PullError(301, `Access to the queue <${url}> was denied: ${detail}`, { path, remedy: remedies['PullError 301'] }),
  sqsFailed: (operation: string, detail: string, path: string) => new PullError(302, `SQS ${operation} failed: ${detail}`, { path, retryable: true, remedy: remedies['PullError 302'] }),
  objectDenied: (location: string, detail: string) => new PullError(310, `Cannot get ${location}: ${detail}`, { remedy: remedies['PullError 310'] }),
  objectUnreadable: (location: string, detail: string) => new PullError(311, `Cannot read ${location}: ${detail}`, { remedy: remedies['PullError 311'] }),
  parquetToText: (location: string, processor: string) =>
    new PullError(312, `${location} is a Parquet object (PAR1 magic bytes) and ${processor} reads text: nothing was sent`, { remedy: remedies['PullError 312'] }),
  notParquet: (location: string) => new PullError(313, `${location} is not a Parquet object (no PAR1 magic bytes): nothing was sent`, { remedy: remedies['PullError 313'] }),
  notANotification: (messageId: string, detail: string) => new PullError(320, `Message ${messageId} is not an S3 notification: ${detail}`, { remedy: remedies['PullError 320'] }),
  poison: (messageId: string, count: number, max: number, action: string) =>
    new PullError(321, `Message ${messageId} was received ${count} times (max_receive_count ${max}): ${action}`, { remedy: remedies['PullError 321'] }),
};
