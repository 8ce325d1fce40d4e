// The contract imports types only, and from type modules only (no implementation file).
import type { EncodedBatch } from '../delivery/types.js';
import type { Logger } from '../telemetry/logger-types.js';
import type { HttpClient } from '../http/http-types.js';
import type { TimeWindow, TimeWindowSpec } from './time-window-types.js';
import type { JsonValue } from '../persistence/json-value.js';
import type { RequestsLimit } from '../http/requests-limit.js';
import type { ServiceGauges } from '../telemetry/service-gauges.js';
import type { ERROR_SPECS, ErrorSpec } from '../errors/error-spec.js';

/** A JSON Schema fragment (draft 2020-12 subset understood by ajv). */
export type JsonSchema = Record<string, unknown>;

/** What a pull generator yields: events to deliver, and optionally the position reached once they are delivered. */
export interface PullBatch<Checkpoint> {
  /**
   * Vendor records exactly as the API returned them (objects), or preformatted strings. Once the SDK has
   * encoded them it sets this to an empty list (the records themselves are not changed), so that a batch a
   * generator still holds no longer keeps the page alive: do not read it after yielding the batch.
   */
  events: readonly unknown[];
  /**
   * Where to resume after a restart. The SDK persists it only after every event yielded so far (in this
   * batch and all earlier ones) was acknowledged by every output.
   */
  checkpoint?: Checkpoint;
  /** Overrides the service tag for these events. */
  tag?: string;
}

/** A pull's counters, as the manuals' statistics lines print them. */
export interface PullCounts {
  /** HTTP requests made. */
  requests: number;
  /** Events the service yielded. */
  received: number;
  /** Events dropped by the dedup window. */
  duplicates: number;
  /** Events every output acknowledged. */
  sent: number;
}

/** Handed to `setup`: build the authenticated vendor client. */
export interface SetupContext {
  inputName: string;
  inputId: string;
  /** The input block as configured, with secret references resolved and defaults applied. */
  input: InputConfig;
  credentials: Record<string, unknown>;
  log: Logger;
  http: HttpClient;
  signal: AbortSignal;
}

/** Handed to `init`: validate and derive service options; throw InitVariablesError for bad values. */
export interface InitContext<Options> {
  inputName: string;
  inputId: string;
  serviceName: string;
  input: InputConfig;
  options: Options;
  /** The config path of the service block, for error messages. */
  path: string;
  log: Logger;
  now(): Date;
}

export interface PullContext<Client, Options> extends InitContext<Options> {
  client: Client;
  http: HttpClient;
  signal: AbortSignal;
  /** The id of this pull cycle (epoch ms as a string), injected into every event as `@devo_pulling_id`. */
  pullingId: string;
  /** The service's default or overridden tag. */
  tag: string;
  /**
   * `--start-at` (the cutover instant) while this service has no checkpoint yet; undefined otherwise. Every
   * vendor's initial start consults it through `cutoverStart(ctx, lookbackMs)`.
   */
  startAt?: Date;
  /** Consecutive time windows from `spec.from` up to now minus the delay, each at most `maxSpanMs` long. */
  windows(spec: TimeWindowSpec): Generator<TimeWindow>;
  /**
   * Service-scoped values persisted with the next checkpoint commit (e.g. Proofpoint's threat statuses,
   * Microsoft 365's detailed rows).
   */
  extra: Record<string, JsonValue>;
  /**
   * Deliver events outside the generator's checkpoint flow (queue-driven services such as SQS): resolves
   * once the queue accepted them (back-pressure); `delivered` settles when every output acknowledged them.
   * An EncodedBatch (events of one tag as UTF-8 bytes, see its doc) goes to the delivery as it is: no
   * string per event, no dedup, no `@devo_pulling_id` added (the bytes carry what is to be sent).
   */
  emit(events: readonly unknown[] | EncodedBatch, tag?: string): Promise<{ delivered: Promise<void> }>;
  /** This pull's counters so far, as its statistics lines print them (read-only). */
  stats: Readonly<PullCounts>;
  /** Custom gauges on /metrics, e.g. `ctx.metrics.gauge('sqs_messages_in_flight', n)` → `collector_sqs_messages_in_flight{input,service}`. */
  metrics: ServiceGauges;
}

export interface ServiceDefinition<Client = unknown, Options = Record<string, unknown>, Checkpoint extends JsonValue = JsonValue> {
  /** The default Devo tag; `override_devo_tag` (and Lark's `override_tag`) replace it. */
  tag: string;
  /** Older names of this service that configs may still use; each is renamed with a deprecation warning. */
  aliases?: readonly string[];
  /** Log lines whose wording the service's manual gives differently (operators grep for them). */
  logLines?: {
    /** Default `Pull Started`. */
    pullStarted?: string;
    /** Logged when a batch of events was acknowledged, e.g. Lark's `Sent 50 events`. */
    sent?(count: number): string;
  };
  /** The name in log lines, e.g. `LarkBasePuller`. */
  moduleName?: string;
  /** JSON Schema of the service's own keys. The SDK adds `request_period_in_seconds` and the tag overrides. */
  options?: JsonSchema;
  /** Seconds between pulls unless configured (`request_period_in_seconds`). */
  requestPeriodSeconds?: number;
  init?(ctx: InitContext<Options>): void | Promise<void>;
  /**
   * A value derived from the options whose change restarts the persistence ("Restart the persistence" in
   * the manuals), e.g. the configured start time.
   */
  resetKey?(options: Options): string | undefined;
  /** The manual's wording of the "persistence was reset" log line, when it has one. */
  resetMessage?(previous: string | null, current: string | null): string;
  /** Returns a unique key per event; events whose key was seen in the dedup window are dropped. */
  dedupKey?(event: any): string | undefined;
  /**
   * The key an earlier version of the service computed, when `dedupKey` changed: a saved dedup window that
   * holds keys it `recognises` makes the runner also drop an event whose earlier key is in the window (and
   * remember its new key), until a pull completes; after that, what a look-back re-reads carries new keys.
   */
  previousDedupKey?: { recognises(key: string): boolean; compute(event: any): string | undefined };
  /** How many keys the dedup window keeps (and persists). Default 20000. */
  dedupWindow?: number;
  /**
   * Runs only when named under the input's `services:`; a config without `services:` runs every service
   * that is not opt-in (e.g. a legacy API, or one that spends a shared request budget).
   */
  optIn?: boolean;
  /** No checkpoint: each cycle is a snapshot (e.g. Darktrace summary statistics). */
  stateless?: boolean;
  pull(ctx: PullContext<Client, Options>, checkpoint: Checkpoint | undefined): AsyncIterable<PullBatch<Checkpoint>>;
  /** `--check`: the smallest authenticated request this service makes. Defaults to setup only. */
  probe?(ctx: PullContext<Client, Options>): Promise<void>;
  /**
   * The time a committed checkpoint stands for, for the lag metric, the "behind by" part of the statistics
   * line and `--show-state`. Without it the SDK reads an ISO 8601 string, an epoch number (ms, or s below
   * 1e11) or an object's `time`/`timestamp`/`end`/`end_time`/`until`/`to`/`start_time`/`cursor` field (the
   * first that is a time); return undefined for no lag (queues).
   */
  checkpointTime?(checkpoint: Checkpoint): Date | undefined;
}

export interface InputDefinition<Client = unknown> {
  /** The key under `inputs:` in config.yaml, e.g. `lark`. */
  name: string;
  /** JSON Schema of `credentials`. */
  credentials?: JsonSchema;
  /** JSON Schema of other input-level keys (besides id, enabled, credentials, services, requests_limits). */
  options?: JsonSchema;
  /** Credential keys whose values are secrets (default: every string in `credentials`). */
  obfuscate?: string[];
  /** Default `requests_limits` when the config gives none. */
  requestsLimits?: RequestsLimit[];
  /** Named extra request pools with their own limits (e.g. Proofpoint's clicks/permitted). */
  requestPools?: Record<string, RequestsLimit[]>;
  /** The setup module name in log lines, e.g. `LarkBasePullerSetup`. */
  setupModuleName?: string;
  setup(ctx: SetupContext): Promise<Client>;
  /**
   * The input's declared error table (`defineErrors`): `--check` takes remedies from it. A `remedy` on the
   * thrown CollectorError wins.
   */
  errors?: { readonly [ERROR_SPECS]: readonly ErrorSpec[] };
  services: Record<string, ServiceDefinition<Client, any, any>>;
}

export interface CollectorDefinition {
  /** e.g. `lark_collector` (`globals.name` default). */
  name: string;
  version: string;
  /**
   * The source keeps every event until we acknowledge it (an SQS queue): events are never acknowledged by
   * writing them to the local emergency persistence, because on a disk-less replica that copy would be the
   * only one. An output that stays down holds the source back instead (messages stay on the queue).
   */
  durableSource?: boolean;
  inputs: InputDefinition<any>[];
}

export interface InputConfig {
  id: string;
  enabled: boolean;
  credentials?: Record<string, unknown>;
  services?: Record<string, Record<string, unknown>>;
  requests_limits?: RequestsLimit[];
  /** Limits of named request pools, over the definition's `requestPools`. */
  requests_pools?: Record<string, RequestsLimit[]>;
  [key: string]: unknown;
}

export function defineCollector(definition: CollectorDefinition): CollectorDefinition {
  return definition;
}

export function defineInput<Client>(definition: InputDefinition<Client>): InputDefinition<Client> {
  return definition;
}

export function defineService<Client, Options = Record<string, unknown>, Checkpoint extends JsonValue = JsonValue>(
  definition: ServiceDefinition<Client, Options, Checkpoint>,
): ServiceDefinition<Client, Options, Checkpoint> {
  return definition;
}
