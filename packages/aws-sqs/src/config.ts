import type { JsonSchema } from '@collector/sdk';

/**
 * Credential keys: static keys, the cross-account role chain, or nothing (default chain). An empty string
 * is how Devo's templates say "not used": it counts as absent.
 */
export const credentialKeys: Record<string, JsonSchema> = {
  aws_access_key_id: { type: ['string', 'null'] },
  aws_secret_access_key: { type: ['string', 'null'] },
  aws_session_token: { type: ['string', 'null'] },
  aws_base_account_role: { type: ['string', 'null'] },
  aws_cross_account_role: { type: ['string', 'null'] },
  aws_external_id: { type: ['string', 'null'] },
  aws_role_session_name: { anyOf: [{ type: 'string', minLength: 2, maxLength: 64 }, { const: '' }, { type: 'null' }] },
  aws_role_duration_seconds: { anyOf: [{ type: 'integer', minimum: 900, maximum: 43200 }, { const: '' }, { type: 'null' }] },
};

/** `inputs.sqs_collector.credentials`. */
export const credentialsSchema: JsonSchema = { type: ['object', 'null'], default: {}, properties: credentialKeys };

/**
 * The credentials the collector uses: the `credentials:` block over the same keys written at the input
 * level (the seed's flat parameter table), empty values dropped.
 */
export function effectiveCredentials(input: Record<string, unknown>): Record<string, unknown> {
  const block = (input['credentials'] ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(credentialKeys)) {
    const value = block[key] !== undefined && block[key] !== null && block[key] !== '' ? block[key] : input[key];
    if (value !== undefined && value !== null && value !== '') out[key] = value;
  }
  return out;
}

/** Devo's pipeline keys (README "Services"): checked in depth at start-up (InitVariablesError 9–15). */
const pipelineKeys: Record<string, JsonSchema> = {
  file_format: { type: ['object', 'string'] },
  routing_template: { type: 'string' },
  file_field_definitions: { type: 'object' },
  filename_filter_rules: { type: 'array' },
  line_filter_rules: { type: 'array' },
  record_field_mapping: { type: 'object' },
  encoding: { type: 'string' },
  send_filtered_out_to_unknown: { type: 'boolean' },
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
  processing_threads: { type: 'integer', minimum: 0, maximum: 64 },
};

export const serviceOptionsSchema: JsonSchema = { type: 'object', properties: { ...serviceKeys, ...pipelineKeys } };
export const inputOptionsSchema: JsonSchema = { type: 'object', properties: { ...serviceKeys, ...credentialKeys } };

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
  /** Worker threads that gunzip and split objects; 0 = this thread does it. */
  processingThreads: number;
}
