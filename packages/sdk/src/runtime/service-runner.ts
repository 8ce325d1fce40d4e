import { CollectorError, describeError } from '../errors/collector-error.js';
import type { HttpClient } from '../http/http-client.js';
import type { JsonObject, JsonValue, StateStore } from '../persistence/state-store.js';
import { stateKey } from '../persistence/state-store.js';
import type { Delivery, DeliveryRecord } from '../delivery/types.js';
import type { Logger } from '../telemetry/logger.js';
import { sleep } from './abortable-sleep.js';
import { DedupWindow } from './dedup-window.js';
import type { InputConfig, PullContext, ServiceDefinition } from './definitions.js';
import { encodeEvent } from './event-encoding.js';
import { PullStatistics, type ServiceTotals } from './pull-statistics.js';
import { timeWindows } from './time-windows.js';
import { checkpointTimeOf, lagSentence } from '../telemetry/lag.js';
import { formatUtc } from '../config/config-time.js';
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
  // `start_at` (ISO string): `--start-at` given while the service had no checkpoint, kept across restarts.
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
  /** Shared per input: the same client for every service. */
  client: { get(): Promise<unknown> };
  signal: AbortSignal;
  environment?: string;
  /** Called by the HTTP observer of this service's client. */
  onRequestCounted?: (listener: () => void) => void;
  /** Counters on /metrics (received, duplicates, sent, bytes, errors) and the services' custom gauges. */
  metrics?: ServiceMetrics;
  /** `--start-at`: applies only while the service has no checkpoint. */
  startAt?: Date;
}

/** Long catch-ups print a progress line at most this often (the manuals show one per window). */
const PROGRESS_LINE_EVERY_MS = 10_000;
const NO_GAUGES: ServiceGauges = { gauge: () => undefined };

const DEFAULT_DEDUP_WINDOW = 20_000;
/** The layout version of a service state file; a future layout change reads older files by this number. */
const STATE_VERSION = 1;
/**
 * How often, at most, the keys of acknowledged events are saved between checkpoints. A checkpoint is only
 * reached at the end of a window; saving the keys as they are acknowledged means a crash mid-window
 * re-sends only what was in flight or acknowledged in the last second, not the whole window.
 */
const ACKED_KEYS_SAVE_INTERVAL_MS = 1000;
/** ...or as soon as this many keys were acknowledged since the last save (fast catch-ups ack a window a second). */
const ACKED_KEYS_SAVE_EVERY = 1000;
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

  /** Loads the state, restarting it when the config says so (`pre_pull`). */
  async prePull(): Promise<void> {
    const { definition, log, store } = this.deps;
    if (definition.stateless) {
      if (this.deps.startAt) log.info(`--start-at ${formatUtc(this.deps.startAt)} does not apply: this service keeps no position (each pull reads what the source holds now)`);
      this.state = this.freshState();
      return;
    }
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
    state = await this.applyStartAt(state);
    this.state = state;
    this.dedup = new DedupWindow(definition.dedupWindow ?? DEFAULT_DEDUP_WINDOW, state.dedup ?? []);
    this.acked = new DedupWindow(definition.dedupWindow ?? DEFAULT_DEDUP_WINDOW, state.dedup ?? []);
    this.totals.checkpoint = state.checkpoint;
    log.info(`${this.moduleLabel()} Finalizing the execution of pre_pull()`);
  }

  /**
   * `--start-at` is for a service that has not started yet: with a checkpoint it is ignored (and said so);
   * without one it is remembered in the state, so a restart before the first checkpoint (without the flag,
   * or with another value) still starts at the instant the cutover was made for.
   */
  private async applyStartAt(state: ServiceState): Promise<ServiceState> {
    const { startAt, log } = this.deps;
    if (state.checkpoint !== null && state.checkpoint !== undefined) {
      if (startAt) log.info(`--start-at ${formatUtc(startAt)} is ignored: this service has a saved position and resumes from it`);
      return state;
    }
    const saved = typeof state['start_at'] === 'string' ? state['start_at'] : undefined;
    if (startAt && saved !== startAt.toISOString()) {
      if (saved) log.warning(`--start-at ${formatUtc(startAt)} replaces the start ${saved} saved by an earlier run that collected nothing yet`);
      state = { ...state, start_at: startAt.toISOString() };
      await this.deps.store.save(this.key, state);
    }
    const effective = startAt ?? (saved ? new Date(saved) : undefined);
    if (effective) log.info(`No saved position: starting at --start-at ${formatUtc(effective)} (minus the service's look-back) instead of the configured start`);
    return state;
  }

  /** Where a service without a checkpoint starts (`--start-at`, persisted); undefined once it has one. */
  private get startAt(): Date | undefined {
    const state = this.state;
    const saved = state?.['start_at'];
    if (typeof saved !== 'string' || (state!.checkpoint !== null && state!.checkpoint !== undefined)) return undefined;
    return new Date(saved);
  }

  private freshState(): ServiceState {
    return {
      version: STATE_VERSION,
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
    log.info(definition.logLines?.pullStarted ?? 'Pull Started');
    const extra: Record<string, JsonValue> = { ...(state.extra ?? {}) };
    const outstanding: Promise<void>[] = [];
    const ctx = this.pullContext(await this.deps.client.get(), stats, extra);
    let succeeded = false;
    try {
      const checkpoint = definition.stateless ? undefined : (state.checkpoint ?? undefined);
      for await (const batch of definition.pull(ctx, checkpoint as JsonValue | undefined)) {
        const { records, keys } = this.toRecords(batch.events, batch.tag ?? this.tag, stats);
        if (records.length > 0) {
          const { delivered } = await delivery.submit(records);
          outstanding.push(delivered.then(() => this.acknowledged(records, keys, stats)));
        }
        if (batch.checkpoint !== undefined && !definition.stateless) {
          // Commit only what every output acknowledged: wait for all events yielded so far.
          await Promise.all(outstanding.splice(0));
          await this.commit(batch.checkpoint, extra);
          this.logProgress(stats);
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
      if (succeeded && stats.lastProgressAt === undefined) log.info(stats.line(true));
      log.info(stats.line(false) + lagSentence(this.checkpointTime));
    }
    return stats;
  }

  private pullContext(client: unknown, stats: PullStatistics, extra: Record<string, JsonValue>): PullContext<unknown, Record<string, unknown>> {
    const { delivery, signal } = this.deps;
    return {
      ...this.initContext(),
      client,
      http: this.deps.http,
      signal,
      pullingId: stats.pullingId,
      tag: this.tag,
      startAt: this.startAt,
      windows: timeWindows,
      extra,
      emit: async (events, tag) => {
        const { records, keys } = this.toRecords(events, tag ?? this.tag, stats);
        const { delivered } = await delivery.submit(records);
        void delivered.then(() => this.acknowledged(records, keys, stats), () => undefined);
        return { delivered };
      },
      metrics: this.deps.metrics ?? NO_GAUGES,
    };
  }

  /** `--check`: setup, then the service's smallest authenticated request. */
  async probe(): Promise<void> {
    const client = await this.deps.client.get();
    await this.deps.definition.probe?.(this.pullContext(client, new PullStatistics('check'), {}));
  }

  private toRecords(events: readonly unknown[], tag: string, stats: PullStatistics): { records: DeliveryRecord[]; keys: string[] } {
    const { definition } = this.deps;
    stats.received += events.length;
    this.totals.received += events.length;
    this.deps.metrics?.received(events.length);
    const records: DeliveryRecord[] = [];
    const keys: string[] = [];
    for (const event of events) {
      if (event === null || event === undefined) continue;
      if (definition.dedupKey && this.dedup) {
        const key = definition.dedupKey(event);
        if (key !== undefined) {
          if (this.dedup.has(key)) {
            stats.duplicates++;
            this.totals.duplicates++;
            this.deps.metrics?.duplicates(1);
            continue;
          }
          this.dedup.add(key);
          keys.push(key);
        }
      }
      records.push({ tag, message: encodeEvent(event, stats.pullingId, this.deps.environment) });
    }
    return { records, keys };
  }

  /** Every output acknowledged these records: count them, and remember their keys for the next save. */
  /** The manuals' progress line after a committed window, at most every PROGRESS_LINE_EVERY_MS. */
  private logProgress(stats: PullStatistics): void {
    const now = performance.now();
    if (stats.lastProgressAt !== undefined && now - stats.lastProgressAt < PROGRESS_LINE_EVERY_MS) return;
    stats.lastProgressAt = now;
    this.deps.log.info(stats.line(true));
  }

  private acknowledged(records: readonly DeliveryRecord[], keys: readonly string[], stats: PullStatistics): void {
    this.countSent(records, stats);
    const sentLine = this.deps.definition.logLines?.sent;
    if (sentLine && records.length > 0) this.deps.log.info(sentLine(records.length));
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

  private countSent(records: readonly DeliveryRecord[], stats: PullStatistics): void {
    stats.sent += records.length;
    this.totals.sent += records.length;
    if (this.deps.metrics) {
      let bytes = 0;
      for (const r of records) bytes += Buffer.byteLength(r.message);
      this.deps.metrics.sent(records.length, bytes);
    }
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
        await this.pullOnce();
        const elapsed = (Date.now() - started) / 1000;
        const wait = Math.max(0, this.periodMs / 1000 - elapsed);
        log.info(`Data collection completed. Elapsed time: ${elapsed.toFixed(3)} seconds. Waiting for ${wait.toFixed(3)} second(s) until the next one`);
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
