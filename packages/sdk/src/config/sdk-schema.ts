import type { JsonSchema } from '../runtime/definitions.js';
import { DEFAULT_BATCH_MESSAGES, DEFAULT_QUEUE_MAX_MB } from '../delivery/delivery-pipeline.js';

const requestsLimits: JsonSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['period', 'number_of_requests'],
    properties: {
      period: { type: 'string', pattern: '^[1-9][0-9]*[smhd]$' },
      number_of_requests: { type: 'integer', minimum: -1 },
    },
  },
};
export const requestsLimitsSchema = requestsLimits;

export const persistenceSchema: JsonSchema = {
  type: 'object',
  default: { type: 'filesystem', config: { directory_name: 'state' } },
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['filesystem', 'memory', 'redis'] },
    config: {
      type: 'object',
      default: {},
      properties: {
        directory_name: { type: 'string', default: 'state' },
        host: { type: 'string' },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        password: { type: 'string' },
        db: { type: 'integer', minimum: 0 },
        prefix: { type: 'string' },
      },
    },
  },
};

export const globalsSchema: JsonSchema = {
  type: 'object',
  default: {},
  properties: {
    debug: { type: 'boolean', default: false },
    id: { type: ['string', 'integer'], default: 'not_used' },
    name: { type: 'string', pattern: '^[0-9a-zA-Z_.# -]+$' },
    persistence: persistenceSchema,
    requests_limits: requestsLimits,
    log_format: { type: 'string', enum: ['text', 'json'], default: 'text' },
    http_server: {
      type: 'object',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        address: { type: 'string', default: '0.0.0.0' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 3000 },
      },
    },
    // Outbound proxy (SDK README, HTTP): each key wins over its environment variable (HTTPS_PROXY, ...).
    proxy: {
      type: 'object',
      properties: {
        enabled: { type: 'boolean', default: true },
        https_proxy: { type: 'string' },
        http_proxy: { type: 'string' },
        no_proxy: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      },
    },
    queue_max_size_in_messages: { type: 'integer', minimum: 1, default: 10000 },
    // Lower than the DCSDK's 1024: the message bound (10000) binds first for events up to ~3 KB, and this keeps
    // big events from holding hundreds of MiB (docs/benchmarks.md, peak RSS).
    queue_max_size_in_mb: { type: 'integer', minimum: 1, default: DEFAULT_QUEUE_MAX_MB },
    queue_max_elapsed_time_in_sec: { type: 'integer', minimum: 1, default: 60 },
    queue_wrap_max_size_in_messages: { type: 'integer', minimum: 1, default: 100 },
    // Delivery extension (SDK README, Acknowledgements): events per delivery batch, the unit an acknowledgement
    // covers; a service with dedup keys sends one batch per settle cycle and re-sends at most one after a crash.
    delivery_batch_max_messages: { type: 'integer', minimum: 1, maximum: 10000, default: DEFAULT_BATCH_MESSAGES },
    sender_concurrent_connections: { type: 'integer', minimum: 1, maximum: 16, default: 1 },
    sender_stats_period_in_sec: { type: 'integer', minimum: 1, default: 300 },
    // Delivery extension (SDK README, Delivery): spill the queue of an output down this long to state/delivery; 0 = never while running.
    emergency_persistence_after_seconds: { type: 'number', minimum: 0, default: 60 },
    once_delivery_timeout_seconds: { type: 'number', minimum: 0, default: 300 },
    // --once gives up (exit 1) once an output has refused us this long (certificate rejected, server not trusted).
    once_refused_timeout_seconds: { type: 'number', minimum: 0, default: 20 },
    // SIGTERM/SIGINT: the stop (flush, spool, save) ends within this bound whatever the outputs do.
    stop_timeout_seconds: { type: 'number', minimum: 1, default: 10 },
    multiprocessing: { type: 'boolean', default: false },
    devo_sender_threshold_for_using_gzip_in_transport_layer: { type: 'number', default: 1.1 },
    devo_sender_compression_level: { type: 'integer', minimum: 0, maximum: 9, default: 6 },
    devo_sender_compression_buffer_in_bytes: { type: 'integer', minimum: 1, maximum: 10485760, default: 51200 },
    generate_metrics: { type: 'boolean', default: true },
    // Active/standby replicas sharing a lease in Redis (SDK README, High availability).
    high_availability: {
      type: 'object',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        lease_seconds: { type: 'integer', minimum: 3, maximum: 600, default: 15 },
      },
    },
  },
};

/**
 * Devo SDK settings that an existing config.yaml may hold: accepted (a copied config still loads), but they
 * change nothing here, each for the reason given. A config that sets one gets a warning at start naming it,
 * never silence. `*` stands for any output's name.
 */
export const inertSettings: Readonly<Record<string, string>> = {
  'globals.multiprocessing': 'every service runs concurrently in one process (the AWS collector decodes on worker threads: processing_threads)',
  'globals.queue_wrap_max_size_in_messages': 'events are queued in delivery batches of delivery_batch_max_messages',
  'globals.queue_max_elapsed_time_in_sec': 'queued events are written as soon as a connection can take them',
  'globals.generate_metrics': 'metrics are always served on /metrics while http_server is enabled',
  'outputs.*.config.sending_retries': 'a failed write is retried with the connecting_* back-off until it succeeds',
  'outputs.*.config.sending_initial_wait_in_seconds': 'a failed write is retried with the connecting_* back-off',
  'outputs.*.config.sending_max_wait_in_seconds': 'a failed write is retried with the connecting_* back-off',
};

const outputConfig: JsonSchema = {
  type: 'object',
  default: {},
  properties: {
    address: { type: 'string' },
    url: { type: 'string' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    type: { type: 'string', enum: ['SSL', 'TCP'] },
    chain: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    chain_loc: { type: 'string' },
    cert_loc: { type: 'string' },
    key_loc: { type: 'string' },
    concurrent_connections: { type: 'integer', minimum: 1, maximum: 16 },
    connecting_retries: { type: 'integer', minimum: 1, maximum: 10, default: 5 },
    connecting_initial_wait_in_seconds: { type: 'number', minimum: 0, default: 2 },
    connecting_max_wait_in_seconds: { type: 'number', minimum: 0, default: 60 },
    sending_timeout: { type: 'number', minimum: 0, default: 5 },
    sending_retries: { type: 'integer', minimum: 0, default: 5 },
    sending_initial_wait_in_seconds: { type: 'number', minimum: 0, default: 2 },
    sending_max_wait_in_seconds: { type: 'number', minimum: 0, default: 60 },
    compression: { type: 'boolean', default: false },
    compression_level: { type: 'integer', minimum: 0, maximum: 9 },
    compression_buffer_in_bytes: { type: 'integer', minimum: 1, maximum: 10485760 },
    hostname: { type: 'string' },
    // Delivery extensions (see the SDK README, Delivery): server name check, acknowledgement timing.
    check_hostname: { type: 'boolean', default: true },
    connect_timeout_in_seconds: { type: 'number', minimum: 0.1, default: 30 },
    ack_settle_in_ms: { type: 'integer', minimum: 0, default: 20 },
    tls_verify_grace_in_ms: { type: 'integer', minimum: 0, default: 1000 },
    idle_timeout_in_seconds: { type: 'number', minimum: 1, default: 30 },
    max_connection_age_in_seconds: { type: 'number', minimum: 1, default: 3600 },
  },
};

export const outputsSchema: JsonSchema = {
  type: 'object',
  default: {},
  additionalProperties: {
    type: 'object',
    required: ['type'],
    properties: {
      type: { type: 'string', enum: ['devo_platform', 'relay', 'syslog', 'in_house_relay', 'sidecar', 'console', 'stdout'] },
      config: outputConfig,
    },
  },
};

/** Keys every service accepts, whatever the vendor. */
export function commonServiceProperties(requestPeriodSeconds: number): Record<string, JsonSchema> {
  return {
    request_period_in_seconds: { type: 'integer', minimum: 1, default: requestPeriodSeconds },
    override_devo_tag: { type: 'string', minLength: 3, maxLength: 1024 },
    override_tag: { type: 'string', minLength: 3, maxLength: 1024 },
  };
}
