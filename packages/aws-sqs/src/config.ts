import type { JsonSchema } from '@collector/sdk';

/** `inputs.sqs_collector.credentials`: static keys, the cross-account role chain, or nothing (default chain). */
export const credentialsSchema: JsonSchema = {
  type: ['object', 'null'],
  default: {},
  properties: {
    aws_access_key_id: { type: 'string', minLength: 1 },
    aws_secret_access_key: { type: 'string', minLength: 1 },
    aws_session_token: { type: 'string', minLength: 1 },
    aws_base_account_role: { type: 'string', minLength: 1 },
    aws_cross_account_role: { type: 'string', minLength: 1 },
    aws_external_id: { type: 'string', minLength: 1 },
    aws_role_session_name: { type: 'string', minLength: 2, maxLength: 64 },
    aws_role_duration_seconds: { type: 'integer', minimum: 900, maximum: 43200 },
  },
};

/**
 * Keys of every service. Those with defaults below may also be given once at the input level (the layout
 * some Devo configs use); a service value wins over an input value, which wins over the default.
 */
export const serviceKeys: Record<string, JsonSchema> = {
  base_url: { type: 'string', minLength: 1 },
  region: { type: 'string' },
  endpoint_url: { type: 'string', minLength: 1 },
  ack_messages: { type: 'boolean' },
  direct_mode: { type: 'boolean' },
  do_not_send: { type: 'boolean' },
  debug_md5: { type: 'boolean' },
  sqs_visibility_timeout: { type: 'integer' },
  sqs_wait_timeout: { type: 'integer' },
  sqs_max_messages: { type: 'integer' },
  compressed_events: { type: 'boolean' },
  max_messages_in_flight: { type: 'integer' },
  max_receive_count: { type: 'integer' },
  delete_poison_messages: { type: 'boolean' },
  events_per_batch: { type: 'integer', minimum: 1, maximum: 10000 },
  vpc_fields: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
  stop_grace_seconds: { type: 'integer', minimum: 0, maximum: 600 },
};

export const serviceOptionsSchema: JsonSchema = { type: 'object', properties: serviceKeys };
export const inputOptionsSchema: JsonSchema = { type: 'object', properties: serviceKeys };

/** Defaults of the keys above (README "Configuration"). */
export const DEFAULTS = {
  ack_messages: false,
  direct_mode: false,
  do_not_send: false,
  debug_md5: false,
  sqs_visibility_timeout: 120,
  sqs_wait_timeout: 20,
  sqs_max_messages: 10,
  compressed_events: false,
  max_messages_in_flight: 8,
  max_receive_count: 5,
  delete_poison_messages: false,
  events_per_batch: 1000,
  stop_grace_seconds: 20,
} as const;

/** The resolved options one service runs with. */
export interface SqsServiceOptions {
  queueUrl: string;
  region: string;
  endpointUrl: string | undefined;
  ackMessages: boolean;
  directMode: boolean;
  doNotSend: boolean;
  debugMd5: boolean;
  visibilityTimeout: number;
  waitTimeSeconds: number;
  maxMessages: number;
  compressedEvents: boolean;
  maxMessagesInFlight: number;
  maxReceiveCount: number;
  deletePoisonMessages: boolean;
  eventsPerBatch: number;
  vpcFields: string[] | undefined;
  stopGraceMs: number;
}
