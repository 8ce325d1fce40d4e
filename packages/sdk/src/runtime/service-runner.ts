import { CollectorError, describeError } from '../errors/collector-error.js';
import type { HttpClient } from '../http/http-client.js';
import type { JsonObject, JsonValue, StateStore } from '../persistence/state-store.js';
import { stateKey } from '../persistence/state-store.js';
import type { Delivery, DeliveryRecord } from '../delivery/types.js';
import type { Logger } from '../telemetry/logger.js';
import { sleep } from './abortable-sleep.js';
import { DedupWindow } from './dedup-window.js';
import type { InputConfig, PullContext, ServiceDefinition, SharedState } from './definitions.js';
import { EventEncoder } from './event-encoding.js';
import { IDLE_RELEASE_MIN_WAIT_MS, releaseIdleMemory } from './idle-memory.js';
import { publishLookup } from '../delivery/lookup.js';
import { PullStatistics, type ServiceTotals } from './pull-statistics.js';
import { timeWindows } from './time-windows.js';
import { checkpointTimeOf, lagSentence } from '../telemetry/lag.js';
import type { ServiceGauges, ServiceMetrics } from '../telemetry/metrics.js';

/** What a persisted service state file holds. */
export interface ServiceState extends JsonObject {
  version: number;
  /** The resetKey value the state belongs to; a different configured value restarts the persistence. */
  reset: string | null;
  checkpoint: JsonValue;
  dedup: string[];
  extra: { [key: string]: JsonValue };
  updated_at: string;
}

export interface ServiceRunnerDeps {
  collectorName: string;
  inputName: string;
  inputId: string;
  serviceName: string;
  definition: ServiceDefinition<unknown, Record<string, unknown>, JsonValue>;
  input: InputConfig;
  options: Record<string, unknown>;
  path: string;
  log: Logger;
  http: HttpClient;
  store: StateStore;
  delivery: Delivery;
  inputState: SharedState;
  /** Shared per input: the same client for every service; `refresh` runs setup again. */
  client: { get(): Promise<unknown>; refresh(): Promise<unknown> };
  signal: AbortSignal;
  environment?: string;
  /** Called by the HTTP observer of this service's client. */
  onRequestCounted?: (listener: () => void) => void;
  /** Counters on /metrics (received, duplicates, sent, bytes, errors) and the services' custom gauges. */
  metrics?: ServiceMetrics;
}

const NO_GAUGES: ServiceGauges = { gauge: () => undefined };

/** One batch as handed to delivery: its records, the dedup keys they carry, their size for the metrics. */
interface EncodedBatch {
  records: DeliveryRecord[];
  keys: string[];
  bytes: number;
}

function utf8Bytes(records: readonly DeliveryRecord[]): number {
  let bytes = 0;
  for (let i = 0; i < records.length; i++) bytes += Buffer.byteLength(records[i]!.message);
  return bytes;
}

const DEFAULT_DEDUP_WINDOW = 20_000;
/**
 * How often, at most, the keys of acknowledged events are saved between checkpoints. A checkpoint is only
 * reached at the end of a window; saving the keys as they are acknowledged means a crash mid-window
 * re-sends only what was in flight or acknowledged in the last second, not the whole window.
 */
const ACKED_KEYS_SAVE_INTERVAL_MS = 1000;
/**
 * ...or as soon as this many keys were acknowledged since the last save (fast catch-ups ack a window a
 * second). Each save writes the whole window (20000 keys by default): at 1000 it cost a catch-up more CPU
 * than parsing and encoding the events together (docs/benchmarks.md).
 */
const ACKED_KEYS_SAVE_EVERY = 5000;
/** DCSDK: a failed pre-pull or setup is retried after 60 s. */
const SETUP_RETRY_MS = 60_000;

/**
 * Runs one service through the DCSDK lifecycle: init → setup → pre-pull (load or reset state) → pull every
 * `request_period_in_seconds`. Checkpoints are committed only once every earlier event was acknowledged.
 */
export class ServiceRunner {
  readonly totals: ServiceTotals;
  private state: ServiceState | undefined;
  /** Keys of every event submitted: filters repeats in this process. */
  private dedup: DedupWindow | undefined;
  /** Keys of acknowledged events only: what is persisted (a key of an undelivered event must never be). */
  private acked: DedupWindow | undefined;
  /** Every state write goes through this chain, so an older snapshot can never be written last. */
  private saving: Promise<void> = Promise.resolve();
  private lastAckedSave = 0;
  private ackedSaveTimer: NodeJS.Timeout | undefined;
  private ackedDirty = false;
  private ackedSinceSave = 0;
  private ackedSaveQueued = false;
  private readonly key: string;
  private currentStats: PullStatistics | undefined;
  private readonly tag: string;

  constructor(private readonly deps: ServiceRunnerDeps) {
    this.key = stateKey(deps.inputName, deps.inputId, deps.serviceName);
    this.totals = { input: deps.inputName, inputId: deps.inputId, service: deps.serviceName, cycles: 0, requests: 0, received: 0, duplicates: 0, sent: 0, errors: 0 };
    const o = deps.options;
    this.tag = (o['override_devo_tag'] as string | undefined) ?? (o['override_tag'] as string | undefined) ?? deps.definition.tag;
    deps.onRequestCounted?.(() => {
      this.totals.requests++;
      if (this.currentStats) this.currentStats.requests++;
    });
  }

  get periodMs(): number {
    return Number(this.deps.options['request_period_in_seconds'] ?? this.deps.definition.requestPeriodSeconds ?? 60) * 1000;
  }

  get stateKey(): string {
    return this.key;
  }

  get committedState(): ServiceState | undefined {
    return this.state;
  }

  /** The time the committed checkpoint stands for (lag), per the service's `checkpointTime` or the convention. */
  get checkpointTime(): Date | undefined {
    const { definition } = this.deps;
    return definition.stateless ? undefined : checkpointTimeOf(this.state?.checkpoint, definition.checkpointTime?.bind(definition));
  }

  /** Validates the service options (`init_variables`). Throws the vendor's InitVariablesError. */
  async init(): Promise<void> {
    const { definition, log } = this.deps;
    log.info(`${this.moduleLabel()} Starting the execution of init_variables()`);
    if (this.deps.options['override_devo_tag'] || this.deps.options['override_tag']) {
      const key = this.deps.options['override_devo_tag'] ? 'override_devo_tag' : 'override_tag';
      log.info(`Overriding rule #1 - service key <${key}> with value <${this.tag}> overrides definition key <tag> with value <${definition.tag}> when the first is not <None>`);
    }
    await definition.init?.(this.initContext());
    log.info(`${this.moduleLabel()} Finalizing the execution of init_variables()`);
  }

  private moduleLabel(): string {
    return `${this.deps.definition.moduleName ?? 'Puller'}(${this.deps.inputName},${this.deps.inputId},${this.deps.serviceName},predefined)`;
  }

  private initContext() {
    return {
      inputName: this.deps.inputName,
      inputId: this.deps.inputId,
      serviceName: this.deps.serviceName,
      input: this.deps.input,
      options: this.deps.options,
      path: this.deps.path,
      log: this.deps.log,
      now: () => new Date(),
    };
  }

  /** Loads the state, migrating or restarting it as the config says (`pre_pull`). */
  async prePull(): Promise<void> {
    const { definition, log, store } = this.deps;
    if (definition.stateless) {
      this.state = this.freshState();
      return;
    }
    const version = definition.stateVersion ?? 1;
    const resetValue = definition.resetKey?.(this.deps.options) ?? null;
    let loaded: JsonObject | undefined;
    try {
      loaded = await store.load(this.key);
    } catch (error) {
      // A corrupt file was moved aside by the store: say so loudly and start from the configured start.
      log.error(`${describeError(error)}; starting from the configured start time`);
    }
    log.info(`Retrieved state from the persistence -> ${loaded ? 'found' : 'None'}`);
    let state = loaded as ServiceState | undefined;
    if (state && typeof state.version === 'number' && state.version < version && definition.migrate) {
      state = { ...(definition.migrate(state, state.version) as ServiceState), version };
      log.info(`Migrated the persisted state from version ${(loaded as ServiceState).version} to ${version}`);
    }
    if (state && (state.reset ?? null) !== resetValue) {
      log.warning(
        definition.resetMessage?.(state.reset ?? null, resetValue) ??
          `The persistence has been reset: the configured value changed from <${state.reset}> to <${resetValue}>`,
      );
      state = undefined;
    }
    if (!state) {
      state = this.freshState();
      await store.save(this.key, state);
      log.warning('Persistence has been updated successfully');
    }
    this.state = state;
    this.dedup = new DedupWindow(definition.dedupWindow ?? DEFAULT_DEDUP_WINDOW, state.dedup ?? []);
    this.acked = new DedupWindow(definition.dedupWindow ?? DEFAULT_DEDUP_WINDOW, state.dedup ?? []);
    this.totals.checkpoint = state.checkpoint;
    log.info(`${this.moduleLabel()} Finalizing the execution of pre_pull()`);
  }

  private freshState(): ServiceState {
    return {
      version: this.deps.definition.stateVersion ?? 1,
      reset: this.deps.definition.resetKey?.(this.deps.options) ?? null,
      checkpoint: null,
      dedup: [],
      extra: {},
      updated_at: new Date().toISOString(),
    };
  }

  /** One pull cycle: runs the service's generator until it is caught up. Throws what the vendor threw. */
  async pullOnce(): Promise<PullStatistics> {
    const { definition, delivery, log, signal } = this.deps;
    if (!this.state) await this.prePull();
    const state = this.state!;
    const stats = new PullStatistics(String(Date.now()));
    this.currentStats = stats;
    log.info('Pull Started');
    const extra: Record<string, JsonValue> = { ...(state.extra ?? {}) };
    const outstanding: Promise<void>[] = [];
    const encoder = new EventEncoder(stats.pullingId, this.deps.environment);
    const ctx = this.pullContext(await this.deps.client.get(), stats, extra, encoder);
    let succeeded = false;
    try {
      const checkpoint = definition.stateless ? undefined : (state.checkpoint ?? undefined);
      for await (const batch of definition.pull(ctx, checkpoint as JsonValue | undefined)) {
        const encoded = this.toRecords(batch.events, batch.tag ?? this.tag, stats, encoder);
        if (encoded.records.length > 0) {
          const { delivered } = await delivery.submit(encoded.records);
          outstanding.push(delivered.then(() => this.acknowledged(encoded, stats)));
        }
        if (batch.checkpoint !== undefined && !definition.stateless) {
          // Commit only what every output acknowledged: wait for all events yielded so far.
          await Promise.all(outstanding.splice(0));
          await this.commit(batch.checkpoint, extra);
        }
        if (signal.aborted) break;
      }
      await Promise.all(outstanding.splice(0));
      if (!definition.stateless && !signal.aborted) await this.commit(undefined, extra);
      succeeded = true;
    } finally {
      // Events submitted before a failure still count once delivered. Their checkpoint is not committed,
      // but the keys of those acknowledged are, so the re-pull of the unfinished window after a restart does
      // not send them twice.
      await Promise.allSettled(outstanding);
      clearTimeout(this.ackedSaveTimer);
      this.ackedSaveTimer = undefined;
      await this.saveAckedKeys().catch(() => undefined);
      this.currentStats = undefined;
      this.totals.cycles++;
      if (succeeded) this.totals.lastSuccess = Date.now();
      log.info(stats.line(!succeeded) + lagSentence(this.checkpointTime));
    }
    return stats;
  }

  private pullContext(
    client: unknown,
    stats: PullStatistics,
    extra: Record<string, JsonValue>,
    encoder = new EventEncoder(stats.pullingId, this.deps.environment),
  ): PullContext<unknown, Record<string, unknown>> {
    const { delivery, signal } = this.deps;
    return {
      ...this.initContext(),
      client,
      http: this.deps.http,
      signal,
      pullingId: stats.pullingId,
      tag: this.tag,
      windows: timeWindows,
      extra,
      inputState: this.deps.inputState,
      emit: async (events, tag) => {
        const encoded = this.toRecords(events, tag ?? this.tag, stats, encoder);
        const { delivered } = await delivery.submit(encoded.records);
        void delivered.then(() => this.acknowledged(encoded, stats), () => undefined);
        return { delivered };
      },
      publishLookup: (p) => publishLookup(delivery, { ...p, signal }),
      refreshSetup: () => this.deps.client.refresh(),
      metrics: this.deps.metrics ?? NO_GAUGES,
    };
  }

  /** `--check`: setup, then the service's smallest authenticated request. */
  async probe(): Promise<void> {
    const client = await this.deps.client.get();
    await this.deps.definition.probe?.(this.pullContext(client, new PullStatistics('check'), {}));
  }

  /**
   * Dedups and serialises one batch in a single pass: the key is looked up as the service returns it (no
   * re-serialisation), and only events that survive are encoded. Nothing here keeps the vendor's objects:
   * once this returns, a page is garbage as soon as the service lets go of it.
   */
  private toRecords(events: readonly unknown[], tag: string, stats: PullStatistics, encoder: EventEncoder): EncodedBatch {
    const { definition } = this.deps;
    stats.received += events.length;
    this.totals.received += events.length;
    this.deps.metrics?.received(events.length);
    const dedupKey = this.dedup ? definition.dedupKey : undefined;
    const records: DeliveryRecord[] = [];
    const keys: string[] = [];
    let duplicates = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      if (event === null || event === undefined) continue;
      if (dedupKey) {
        const key = dedupKey.call(definition, event);
        if (key !== undefined) {
          if (this.dedup!.has(key)) {
            duplicates++;
            continue;
          }
          this.dedup!.add(key);
          keys.push(key);
        }
      }
      records.push({ tag, message: encoder.encode(event) });
    }
    if (duplicates > 0) {
      stats.duplicates += duplicates;
      this.totals.duplicates += duplicates;
      this.deps.metrics?.duplicates(duplicates);
    }
    return { records, keys, bytes: this.deps.metrics ? utf8Bytes(records) : 0 };
  }

  /** Every output acknowledged these records: count them, and remember their keys for the next save. */
  private acknowledged({ records, keys, bytes }: EncodedBatch, stats: PullStatistics): void {
    stats.sent += records.length;
    this.totals.sent += records.length;
    this.deps.metrics?.sent(records.length, bytes);
    if (keys.length === 0 || !this.acked || this.deps.definition.stateless) return;
    for (const key of keys) this.acked.add(key);
    this.ackedDirty = true;
    this.ackedSinceSave += keys.length;
    if (this.ackedSinceSave >= ACKED_KEYS_SAVE_EVERY && !this.ackedSaveQueued) {
      // One write queued at a time: acknowledgements arriving meanwhile ride along with it.
      this.ackedSaveQueued = true;
      this.saveAckedKeys()
        .catch(() => undefined)
        .finally(() => (this.ackedSaveQueued = false));
      return;
    }
    if (this.ackedSaveTimer) return;
    const wait = Math.max(0, this.lastAckedSave + ACKED_KEYS_SAVE_INTERVAL_MS - Date.now());
    this.ackedSaveTimer = setTimeout(() => {
      this.ackedSaveTimer = undefined;
      // A failed save is retried with the next acknowledgement or commit; the checkpoint is unaffected.
      this.saveAckedKeys().catch(() => undefined);
    }, wait);
    this.ackedSaveTimer.unref?.();
  }

  /** Saves the committed state with the keys acknowledged so far (no new checkpoint). */
  private async saveAckedKeys(): Promise<void> {
    if (!this.ackedDirty || !this.state || this.deps.definition.stateless) return;
    await this.persist();
  }

  /**
   * Queues a write of the current state (built when the write runs, so it always carries the newest
   * checkpoint and acknowledged keys) behind the writes already queued.
   */
  private persist(): Promise<void> {
    const write = this.saving.then(async () => {
      if (!this.state) return;
      this.ackedDirty = false;
      this.ackedSinceSave = 0;
      this.lastAckedSave = Date.now();
      const snapshot: ServiceState = { ...this.state, dedup: this.acked?.toJSON() ?? [], updated_at: new Date().toISOString() };
      try {
        await this.deps.store.save(this.key, snapshot);
      } catch (error) {
        this.ackedDirty = true;
        throw error;
      }
    });
    this.saving = write.catch(() => undefined);
    return write;
  }

  /**
   * Moves the checkpoint: called only once every event before it was acknowledged. The in-memory state moves
   * at once (its events are delivered, so this process may resume after them even if the write fails); the
   * file follows through `persist`, and a failed write is the caller's error (PersistenceError 503).
   */
  private async commit(checkpoint: JsonValue | undefined, extra: Record<string, JsonValue>): Promise<void> {
    const state = this.state!;
    this.state = { ...state, checkpoint: checkpoint === undefined ? state.checkpoint : checkpoint, extra: { ...extra } };
    this.totals.checkpoint = this.state.checkpoint;
    await this.persist();
    if (checkpoint !== undefined) this.deps.log.debug(`Savepoint reached: Updating persistence with -> ${JSON.stringify(this.state.checkpoint)}`);
  }

  /** The daemon loop: pull every period until stopped; errors are logged and retried next cycle. */
  async loop(): Promise<void> {
    const { log, signal } = this.deps;
    log.info(`Starting data collection every ${this.periodMs / 1000} seconds`);
    while (!signal.aborted) {
      const started = Date.now();
      try {
        const stats = await this.pullOnce();
        const elapsed = (Date.now() - started) / 1000;
        const wait = Math.max(0, this.periodMs / 1000 - elapsed);
        log.info(`Data collection completed. Elapsed time: ${elapsed.toFixed(3)} seconds. Waiting for ${wait.toFixed(3)} second(s) until the next one`);
        if (stats.received > 0 && wait * 1000 >= IDLE_RELEASE_MIN_WAIT_MS) releaseIdleMemory();
        await sleep(wait * 1000, signal);
      } catch (error) {
        if (signal.aborted) break;
        this.recordError(error);
        const retryable = !(error instanceof CollectorError) || error.retryable || error.type === 'PullError' || error.type === 'PersistenceError';
        const wait = retryable ? this.periodMs : SETUP_RETRY_MS;
        log.error(`${describeError(error, log.debugEnabled)}. Retrying in ${wait / 1000} second(s)`);
        await sleep(wait, signal);
      }
    }
  }

  recordError(error: unknown): void {
    this.totals.errors++;
    this.deps.metrics?.error(error);
    this.totals.lastError = describeError(error);
  }
}
