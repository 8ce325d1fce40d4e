import { CollectorError, describeError } from '../errors/collector-error.js';
import type { HttpClient } from '../http/http-client.js';
import { noJournal, type AckJournal } from '../persistence/ack-journal.js';
import type { JsonObject, JsonValue, StateStore } from '../persistence/state-store.js';
import type { SavedState } from '../persistence/state-text.js';
import { stateKey } from '../persistence/state-store.js';
import { EncodedBatch } from '../delivery/encoded-batch.js';
import type { Delivery } from '../delivery/types.js';
import type { Logger } from '../telemetry/logger.js';
import { sleep } from './abortable-sleep.js';
import type { SavedDedupKeys } from './dedup-window.js';
import type { InputConfig, PullBatch, PullContext, ServiceDefinition } from './definitions.js';
import { DEFAULT_BATCH_MESSAGES } from '../delivery/delivery-pipeline.js';
import { EncodedQueue, type QueuedBatch } from './encoded-queue.js';
import { EventEncoder } from './event-encoding.js';
import { IDLE_RELEASE_MIN_WAIT_MS, releaseIdleMemory } from './idle-memory.js';
import { PullStatistics, type ServiceTotals } from './pull-statistics.js';
import { ServiceKeys } from './service-keys.js';
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
  /** The acknowledged keys, oldest first: one string (each key followed by a space) since 2026-12, a list before (both read). */
  dedup: SavedDedupKeys;
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
  /** Where the keys of acknowledged events go as they are acknowledged (none: only the state saves keep them). */
  journal?: AckJournal;
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
  /**
   * Events per submission at most (`delivery_batch_max_messages`, default 2000): the unit of acknowledgement,
   * and so what a service with dedup keys may send again after a `kill -9`.
   */
  batchMessages?: number;
}

const NO_EVENTS: readonly unknown[] = Object.freeze([]);
const NO_GAUGES: ServiceGauges = { gauge: () => undefined, count: () => undefined };

/** The layout version of a service state file; a future layout change reads older files by this number. */
const STATE_VERSION = 1;
/** A slice the pump submitted: the running count of records submitted once it was, and its acknowledgement. */
interface SubmittedBatch {
  end: number;
  journaled: Promise<void>;
}

/**
 * A batch is cut at this many bytes of messages too (whatever comes first), so that one buffer of a batch
 * stays bounded with big events; 2000 events of up to 2 KiB each still make one batch.
 */
const SUBMIT_BATCH_BYTES = 4 * 1024 * 1024;
/** DCSDK: a failed pre-pull or setup is retried after 60 s. */
const SETUP_RETRY_MS = 60_000;

/**
 * Runs one service through the DCSDK lifecycle: init → setup → pre-pull (load or reset state) → pull every
 * `request_period_in_seconds`. Checkpoints are committed only once every earlier event was acknowledged.
 */
export class ServiceRunner {
  readonly totals: ServiceTotals;
  private state: ServiceState | undefined;
  /** The dedup keys and their way to disk; undefined until pre-pull, and for a stateless service. */
  private keys: ServiceKeys | undefined;
  /**
   * Every state write goes through this chain, so an older snapshot can never be written last. Journal
   * appends do not: each save seals the journal's segment as it takes its snapshot, and folds only that one
   * (see AckJournal.seal), so an acknowledged batch is journaled without waiting for a save in progress.
   */
  private saving: Promise<void> = Promise.resolve();
  private readonly journal: AckJournal;
  /** The last batch submitted: settles once acknowledged and its keys journaled (see submit()). */
  private lastBatch: Promise<void> = Promise.resolve();
  /**
   * Events of yielded pages not submitted yet, encoded into the buffers of the batches they will be
   * submitted in, with their dedup keys (see enqueued()).
   */
  private readonly queue: EncodedQueue;
  /** Events per submission at most (see ServiceRunnerDeps.batchMessages). */
  private readonly batchMessages: number;
  /**
   * Events submitted by this runner so far: a position in its stream, as `queue.pushed` is for the events
   * queued (counted as each is queued, so a page whose encoding fails half-way keeps both in step).
   */
  private submittedCount = 0;
  /**
   * Events of batches cut from the queue whose submission threw: never submitted, but past in the queue's
   * positions. Counted into `submittedCount` only once their pull has ended (its commits settled, so none
   * can pass them), so that the next pull's commits, which wait for positions, are not left waiting forever.
   */
  private unsubmitted = 0;
  /** Checkpoints waiting for the pump to submit every record before them (see whenSubmitted()). */
  private submitWaiters: { upTo: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Submits the queue slice by slice while it holds records; undefined when idle. */
  private pumping: Promise<void> | undefined;
  private pumpFailure: unknown;
  /** Wakes a pull loop that waits for room in the queue. */
  private queueMoved: (() => void) | undefined;
  /** Wakes a pump that waits for a full batch to frame ahead (see pump()). */
  private batchQueued: (() => void) | undefined;
  /** Events the pump cut and framed ahead, not submitted yet: they still count in the queue's bound. */
  private framedAhead = 0;
  private readonly key: string;
  private currentStats: PullStatistics | undefined;
  private readonly tag: string;

  constructor(private readonly deps: ServiceRunnerDeps) {
    this.key = stateKey(deps.inputName, deps.inputId, deps.serviceName);
    this.batchMessages = deps.batchMessages ?? DEFAULT_BATCH_MESSAGES;
    this.queue = new EncodedQueue(this.batchMessages, SUBMIT_BATCH_BYTES);
    this.journal = deps.definition.stateless ? noJournal : (deps.journal ?? noJournal);
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
    // Keys acknowledged after the last save (a crash came before the next one): delivered, never to be sent again.
    let journaled = await this.journal.read(this.key);
    if (!state) {
      state = this.freshState();
      journaled = []; // a reset starts over: the old keys must not hide events of the new start
      await store.save(this.key, state);
      await this.journal.fold(this.key);
      log.warning('Persistence has been updated successfully');
    }
    state = await this.applyStartAt(state);
    if (journaled.length > 0) log.info(`Recovered ${journaled.length} acknowledged event key(s) from the journal: they are not sent again`);
    this.keys = new ServiceKeys({ key: this.key, definition, journal: this.journal, store, log }, state.dedup, journaled);
    this.state = { ...state, dedup: [] };
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
    await this.keys?.reload();
    const state = this.state!;
    const stats = new PullStatistics(String(Date.now()));
    this.currentStats = stats;
    log.info(definition.logLines?.pullStarted ?? 'Pull Started');
    const extra: Record<string, JsonValue> = { ...(state.extra ?? {}) };
    const outstanding: SubmittedBatch[] = [];
    const encoder = new EventEncoder(stats.pullingId, this.deps.environment);
    const ctx = this.pullContext(await this.deps.client.get(), stats, extra, encoder);
    let succeeded = false;
    /**
     * The commit of the last checkpoint yielded: it waits for the acknowledgement of every event yielded
     * before it, while the service goes on fetching (the queue's bound holds it back), and for the commit
     * before it, so checkpoints are saved in order. A failed commit is thrown at the next checkpoint.
     */
    let committing: Promise<void> = Promise.resolve();
    let commitFailed: { error: unknown } | undefined;
    try {
      const checkpoint = definition.stateless ? undefined : (state.checkpoint ?? undefined);
      // Iterated by hand, not with for-await: the loop's variable would keep the last page (the vendor's parsed
      // records) alive while its events wait for room in the queue and while the next page is fetched and
      // parsed, so every scavenge in between would copy it, then promote it. Only its encoded bytes stay.
      const batches = definition.pull(ctx, checkpoint as JsonValue | undefined)[Symbol.asyncIterator]();
      let finished = false;
      try {
        for (;;) {
          const batch = this.encodeBatch(await batches.next(), stats, encoder);
          if (batch === undefined) {
            finished = true;
            break;
          }
          const committed = batch.checkpoint;
          if (batch.queued > 0) await this.enqueued(stats, outstanding, batch.queued);
          if (committed !== undefined && !definition.stateless) {
            // Commit only what every output acknowledged: every event yielded so far. The queue is not drained
            // here: the next window's pages join the records still queued, so a window's last records go out
            // in a full batch with the next window's first instead of a small batch of their own (each batch
            // costs one acknowledgement round trip), and the commit follows that batch's acknowledgement.
            if (commitFailed) throw commitFailed.error;
            const upTo = this.queue.pushed;
            const values = { ...extra };
            committing = Promise.all([committing, this.acknowledgedThrough(upTo, outstanding)]).then(async () => {
              await this.commit(committed, values);
              this.logProgress(stats);
            });
            committing.catch((error: unknown) => void (commitFailed ??= { error })); // thrown here next time, or awaited at the end
          }
          if (signal.aborted) break;
        }
      } catch (error) {
        // What for-await does when its body throws: the service's generator runs its `finally` blocks, and an
        // error of that is dropped for the body's.
        finished = true;
        await Promise.resolve(batches.return?.()).catch(() => undefined);
        throw error;
      }
      if (!finished) await batches.return?.();
      await this.drainQueue(stats, outstanding);
      await Promise.all(outstanding.map((b) => b.journaled));
      await committing;
      if (!definition.stateless && !signal.aborted) await this.commit(undefined, extra, true);
      // A stopped pull did not finish (the window engine ends it quietly): no success, no "(Partial)" line.
      succeeded = !signal.aborted;
    } finally {
      // Events submitted before a failure still count once delivered. Their checkpoint is not committed,
      // but the keys of those acknowledged are, so the re-pull of the unfinished window after a restart does
      // not send them twice. Queued records are submitted too: their keys count as seen already (pending), so
      // a later pull would drop them.
      await this.drainQueue(stats, outstanding).catch(() => undefined);
      this.pumpFailure = undefined;
      await Promise.allSettled([...outstanding.map((b) => b.journaled), committing]);
      this.submittedCount += this.unsubmitted;
      this.unsubmitted = 0;
      await this.saveAckedKeys().catch(() => undefined);
      this.keys?.pullEnded(succeeded);
      // Nor the buffers of acknowledged batches (1–2 MiB each): an idle daemon holds none.
      this.queue.dropSpares();
      this.currentStats = undefined;
      this.totals.cycles++;
      if (succeeded) this.totals.lastSuccess = Date.now();
      if (succeeded && !stats.progressLogged) log.info(stats.line(true));
      log.info(stats.line(false) + lagSentence(this.checkpointTime));
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
      startAt: this.startAt,
      windows: timeWindows,
      extra,
      emit: async (events, tag) => {
        if (events instanceof EncodedBatch) return this.emitEncoded(events, stats);
        const queue = new EncodedQueue(this.batchMessages, SUBMIT_BATCH_BYTES);
        try {
          this.encodeEvents(events, tag ?? this.tag, stats, encoder, queue);
        } catch (error) {
          // An event the encoder threw on: this queue is dropped, and with it the keys of the events before it.
          this.forgetQueued(queue);
          throw error;
        }
        const { delivered } = await this.submit(queue, stats);
        delivered.catch(() => undefined); // the caller may not wait for it; a rejection still reaches whoever does
        return { delivered };
      },
      metrics: this.deps.metrics ?? NO_GAUGES,
      stats,
    };
  }

  /**
   * `ctx.emit` of events as bytes: submitted as they are (no dedup, no record per event) and counted as
   * acknowledged once delivered, as submit() counts records.
   */
  private async emitEncoded(batch: EncodedBatch, stats: PullStatistics): Promise<{ delivered: Promise<void> }> {
    this.countReceived(batch.length, stats);
    const { delivered } = await this.deps.delivery.submit(batch);
    const counted = delivered.then(() => this.countSent(batch.length, () => batch.byteLength, stats));
    counted.catch(() => undefined);
    return { delivered: counted };
  }

  /** `--check`: setup, then the service's smallest authenticated request. */
  async probe(): Promise<void> {
    const client = await this.deps.client.get();
    await this.deps.definition.probe?.(this.pullContext(client, new PullStatistics('check'), {}));
  }

  /**
   * Submits the batches of `queue` (at most one delivery batch each), each acknowledged (and its keys
   * journaled) on its own. While the outputs are up, a service with dedup keys submits a batch only once the
   * one before was acknowledged and journaled: at any moment at most one batch is delivered but not
   * journaled, which bounds what a crash sends again to one batch (the vendor's next page is fetched
   * meanwhile). While an output is down nothing is delivered, so nothing waits: events flow on to the queue
   * and the emergency persistence. Resolves once submitted, with the acknowledgement of them all.
   */
  private async submit(queue: EncodedQueue, stats: PullStatistics): Promise<{ delivered: Promise<void> }> {
    const { definition } = this.deps;
    const oneAtATime = definition.dedupKey !== undefined && !definition.stateless;
    const acks: Promise<void>[] = [];
    for (let batch = queue.cut(); batch !== undefined; batch = queue.cut()) {
      if (oneAtATime) await this.previousBatchJournaled();
      let delivered: Promise<void>;
      try {
        ({ delivered } = await this.deps.delivery.submit(batch.submission));
      } catch (error) {
        // Neither this batch nor the ones after it will be submitted.
        this.forget(batch);
        this.forgetQueued(queue);
        throw error;
      }
      const submitted = batch;
      const journaled = delivered.then(
        () => this.acknowledged(submitted, stats),
        (error: unknown) => this.failed(submitted, error),
      );
      this.lastBatch = journaled;
      acks.push(journaled);
    }
    return { delivered: Promise.all(acks).then(() => undefined) };
  }

  /**
   * The `page` events of a yielded page were queued: returns at once, unless the queue has no room (then it
   * waits for it; see roomAfter()). The pump submits the queue batch by batch, one at a time as submit() does,
   * so the pages fetched while a batch awaits its acknowledgement go out together in the next one instead of
   * each page waiting for the acknowledgement of the page before. Each batch's acknowledgement (and
   * journaling) is pushed to `acks`.
   */
  private async enqueued(stats: PullStatistics, acks: SubmittedBatch[], page: number): Promise<void> {
    if (this.queue.full) this.wake('batchQueued');
    this.startPump(stats, acks);
    // `room` events, and as many whole batches (a batch cut by its bytes counts whole): big events keep the
    // bytes waiting bounded by batches of SUBMIT_BATCH_BYTES, as for one batch.
    const room = this.roomAfter(page);
    const batches = room / this.batchMessages;
    while ((this.queue.length + this.framedAhead >= room || this.queue.wholeBatches >= batches) && this.pumping !== undefined) await new Promise<void>((resolve) => (this.queueMoved = resolve));
    this.throwPumpFailure();
  }

  /**
   * How many events may wait unsubmitted (queued, or cut and framed ahead) when the pull asks for its next
   * page, after a page of `page` events was queued. As a rule one batch (or its bytes): the next page is
   * fetched while the last batch of this one waits, and memory holds at most that batch and a page.
   *
   * A page of two batches or more takes as many acknowledgement cycles to send (one batch at a time for a
   * service with dedup keys), and waiting until less than a batch of it is left kept the output idle for
   * most of the next page's fetch: Microsoft 365's Graph pages of 5000 rows take ~40–100 ms to fetch and
   * parse here, a 2000-event cycle ~25–40 ms (docs/benchmarks.md, "Microsoft 365's rate against its bare
   * loop", wave 14). After such a page the next one is asked for at once, as long as what waits is below
   * that page and a batch more, four batches at most: the queue then holds at most four batches and a page.
   */
  private roomAfter(page: number): number {
    const batch = this.batchMessages;
    return page >= 2 * batch ? Math.min(page + batch, 4 * batch) : batch;
  }

  private startPump(stats: PullStatistics, acks: SubmittedBatch[]): void {
    if (this.pumping === undefined && this.queue.length > 0 && this.pumpFailure === undefined) this.pumping = this.pump(stats, acks);
  }

  /**
   * Runs until the queue is empty. `pumping` is cleared in the same turn as the check that found the queue
   * empty, so records queued right after always start a new pump.
   *
   * With one batch unacknowledged at a time, the next one is cut and framed (delivery.prepare) as soon as a
   * full batch is queued, while the previous one settles: once that one is journaled, the next one's bytes
   * are written at once. They are never written before: at a crash, at most one batch is delivered and not
   * journaled. When no full batch is queued by then, the batch is cut at that moment (the vendor is the
   * bottleneck, and a bigger batch saves a cycle).
   */
  private async pump(stats: PullStatistics, acks: SubmittedBatch[]): Promise<void> {
    const oneAtATime = this.deps.definition.dedupKey !== undefined && !this.deps.definition.stateless;
    // Whatever follows runs after startPump has set `pumping` (which it may clear): never synchronously.
    await Promise.resolve();
    try {
      for (;;) {
        if (this.queue.length === 0) {
          this.pumping = undefined;
          return;
        }
        const ahead = oneAtATime && !(await this.previousBatchJournaled(true));
        const batch = this.queue.cut()!;
        if (ahead) {
          // The pages fetched meanwhile still wait for this batch's submission, as they did before it was cut.
          this.framedAhead = batch.count;
          this.deps.delivery.prepare?.(batch.submission);
          await this.previousBatchJournaled();
        } else {
          this.wakeQueue();
        }
        let delivered: Promise<void>;
        try {
          ({ delivered } = await this.deps.delivery.submit(batch.submission));
        } catch (error) {
          this.forget(batch); // cut from the queue, never submitted (the records after it stay queued)
          this.unsubmitted += batch.count;
          throw error;
        }
        if (ahead) {
          this.framedAhead = 0;
          this.wakeQueue();
        }
        const journaled = delivered.then(
          () => this.acknowledged(batch, stats),
          (error: unknown) => this.failed(batch, error),
        );
        journaled.catch(() => undefined); // awaited through `acks`
        this.lastBatch = journaled;
        this.submittedCount += batch.count;
        acks.push({ end: this.submittedCount, journaled });
        this.wakeSubmitWaiters();
      }
    } catch (error) {
      this.pumpFailure = error;
      this.framedAhead = 0;
      this.pumping = undefined;
      for (const waiter of this.submitWaiters.splice(0)) waiter.reject(error);
    } finally {
      this.wakeQueue();
    }
  }

  private wakeQueue(): void {
    this.wake('queueMoved');
  }

  private wake(which: 'queueMoved' | 'batchQueued'): void {
    const wake = this[which];
    this[which] = undefined;
    wake?.();
  }

  private throwPumpFailure(): void {
    if (this.pumpFailure !== undefined) throw this.pumpFailure;
  }

  private wakeSubmitWaiters(): void {
    while (this.submitWaiters.length > 0 && this.submitWaiters[0]!.upTo <= this.submittedCount) this.submitWaiters.shift()!.resolve();
  }

  /** Once the pump has submitted the records queued before position `upTo`; rejects with a failed submission. */
  private whenSubmitted(upTo: number): Promise<void> {
    if (this.submittedCount >= upTo) return Promise.resolve();
    if (this.pumpFailure !== undefined) return Promise.reject(this.pumpFailure);
    return new Promise((resolve, reject) => this.submitWaiters.push({ upTo, resolve, reject }));
  }

  /**
   * Once every record queued before position `upTo` was acknowledged and journaled: the batches that hold
   * them were submitted (in order) and settled. Batches entirely before `upTo` are then dropped from `acks`:
   * each commit also waits for the one before, so a later one never needs them.
   */
  private async acknowledgedThrough(upTo: number, acks: SubmittedBatch[]): Promise<void> {
    await this.whenSubmitted(upTo);
    const covering = acks.findIndex((b) => b.end >= upTo);
    const batches = acks.slice(0, covering + 1);
    await Promise.all(batches.map((b) => b.journaled));
    let done = 0;
    while (done < acks.length && acks[done]!.end <= upTo) done++;
    acks.splice(0, done);
  }

  /** Until every queued record was submitted; throws what the submission threw. */
  private async drainQueue(stats: PullStatistics, acks: SubmittedBatch[]): Promise<void> {
    this.startPump(stats, acks);
    while (this.pumping !== undefined) await this.pumping;
    this.throwPumpFailure();
  }

  /**
   * Until the last batch was acknowledged and journaled, or an output is down (see submit()): true. With
   * `orFullBatch`, false as soon as a whole batch is queued while the last one is still unsettled.
   */
  private async previousBatchJournaled(orFullBatch = false): Promise<boolean> {
    let settled = false;
    const done = this.lastBatch.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    while (!settled && this.deps.delivery.ready()) {
      if (orFullBatch && this.queue.full) return false;
      const waits = [done, sleep(20)];
      if (orFullBatch) waits.push(new Promise<void>((resolve) => (this.batchQueued = resolve)));
      await Promise.race(waits);
    }
    return true;
  }

  /**
   * One step of the service's generator as what the runner keeps of it: its events encoded into the queue
   * (how many), its checkpoint; undefined once the generator is done. The step (and so the vendor's page)
   * is not kept.
   */
  private encodeBatch(step: IteratorResult<PullBatch<unknown>>, stats: PullStatistics, encoder: EventEncoder): { queued: number; checkpoint: JsonValue | undefined } | undefined {
    if (step.done) return undefined;
    const batch = step.value;
    const queued = this.encodeEvents(batch.events, batch.tag ?? this.tag, stats, encoder, this.queue);
    // The generators between the service and here (`yield*` of the window engine, of a vendor's helpers) keep
    // the last batch they passed on until the next one arrives: emptied, it no longer holds the page.
    if (batch.events.length > 0) Reflect.set(batch, 'events', NO_EVENTS);
    return { queued, checkpoint: batch.checkpoint as JsonValue | undefined };
  }

  /**
   * Dedups and encodes one batch in a single pass: the key is looked up as the service returns it (no
   * re-serialisation), and only events that survive are written, as UTF-8, into the buffer of the batch
   * they will be submitted in (with their key). Nothing here keeps the vendor's objects, nor a string per
   * event: once this returns, a page is garbage as soon as the service lets go of it. Returns how many
   * events were queued.
   */
  private encodeEvents(events: readonly unknown[], tag: string, stats: PullStatistics, encoder: EventEncoder, queue: EncodedQueue): number {
    const { definition } = this.deps;
    this.countReceived(events.length, stats);
    const keys = this.keys;
    const dedupKey = keys ? definition.dedupKey : undefined;
    let queued = 0;
    let duplicates = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      if (event === null || event === undefined) continue;
      const key = dedupKey ? dedupKey.call(definition, event) : undefined;
      if (key !== undefined) {
        if (keys!.duplicate(event, key)) {
          duplicates++;
          continue;
        }
      }
      queue.push(tag, event, key, encoder);
      // Once queued (an event the encoder throws on is not): seen until its batch is acknowledged or fails.
      if (key !== undefined) keys!.queued(key);
      queued++;
    }
    if (duplicates > 0) {
      stats.duplicates += duplicates;
      this.totals.duplicates += duplicates;
      this.deps.metrics?.duplicates(duplicates);
    }
    return queued;
  }

  /** A batch failed (its acknowledgement rejected, or its submission threw): see ServiceKeys.forget. */
  private forget(batch: QueuedBatch): void {
    this.keys?.forget(batch.keys);
  }

  /** A queue that will not be submitted (its events never go out): the keys of every batch left in it are forgotten. */
  private forgetQueued(queue: EncodedQueue): void {
    for (let left = queue.cut(); left !== undefined; left = queue.cut()) this.forget(left);
  }

  /** A submitted batch's acknowledgement rejected: its keys are forgotten, the rejection goes on. */
  private failed(batch: QueuedBatch, error: unknown): never {
    this.forget(batch);
    throw error;
  }

  /** The manuals' progress line, after every committed window as Devo's collectors print it. */
  private logProgress(stats: PullStatistics): void {
    stats.progressLogged = true;
    this.deps.log.info(stats.line(true));
  }

  /**
   * Every output acknowledged this batch: its keys are journaled (see ServiceKeys.acknowledged), it is
   * counted, and its buffer then takes a later batch. Settles once the keys are journaled.
   */
  private acknowledged(batch: QueuedBatch, stats: PullStatistics): Promise<void> {
    const journaled = this.keys?.acknowledged(batch.keys);
    this.countSent(batch.count, () => batch.byteLength, stats);
    batch.release();
    return journaled ?? Promise.resolve();
  }

  /** Saves the committed state with the keys acknowledged so far (no new checkpoint). */
  private async saveAckedKeys(): Promise<void> {
    if (!this.keys?.unsaved || !this.state) return;
    await this.persist(true);
  }

  /**
   * Queues a write of the current state (built when the write runs, so it always carries the newest
   * checkpoint and acknowledged keys) behind the writes already queued. `withKeys` (the end of a pull) writes
   * the acknowledged window and folds the journal; otherwise ServiceKeys.beginSave decides.
   */
  private persist(withKeys = false): Promise<void> {
    const write = this.saving.then(async () => {
      // At the next turn of the event loop: a commit becomes due when a batch is journaled, the very moment the
      // next batch is due on the wire, and the snapshot and its serialisation (50,000 keys for some services)
      // must not run in between. The next batch settles meanwhile.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.state) return;
      const keys = this.keys?.beginSave(withKeys);
      const snapshot: SavedState = { ...this.state, dedup: keys?.dedup ?? [], updated_at: new Date().toISOString() };
      try {
        await this.deps.store.save(this.key, snapshot);
      } catch (error) {
        keys?.failed();
        throw error;
      }
      await keys?.saved();
    });
    this.saving = write.catch(() => undefined);
    return write;
  }

  private countReceived(count: number, stats: PullStatistics): void {
    stats.received += count;
    this.totals.received += count;
    this.deps.metrics?.received(count);
  }

  /**
   * Counts `count` acknowledged events and logs the service's sent line; `bytes` (the UTF-8 size of their
   * messages) is computed only when metrics are on.
   */
  private countSent(count: number, bytes: () => number, stats: PullStatistics): void {
    stats.sent += count;
    this.totals.sent += count;
    this.deps.metrics?.sent(count, bytes());
    const sentLine = this.deps.definition.logLines?.sent;
    if (sentLine && count > 0) this.deps.log.info(sentLine(count));
  }

  /**
   * Moves the checkpoint: called only once every event before it was acknowledged. The in-memory state moves
   * at once (its events are delivered, so this process may resume after them even if the write fails); the
   * file follows through `persist`, and a failed write is the caller's error (PersistenceError 503).
   * `withKeys` (the end of a pull) also writes the acknowledged window and folds the journal.
   */
  private async commit(checkpoint: JsonValue | undefined, extra: Record<string, JsonValue>, withKeys = false): Promise<void> {
    const state = this.state!;
    this.state = { ...state, checkpoint: checkpoint === undefined ? state.checkpoint : checkpoint, extra: { ...extra } };
    this.totals.checkpoint = this.state.checkpoint;
    await this.persist(withKeys);
    if (checkpoint !== undefined) this.deps.log.debug(`Savepoint reached: Updating persistence with -> ${JSON.stringify(this.state.checkpoint)}`);
  }

  /**
   * Before a wait of 5 s or more: the dedup keys may be left to the saved state (see ServiceKeys.idle), and
   * the idle collection gives the memory back. A pull that received nothing and kept its keys made next to no
   * garbage: it skips the collection.
   */
  private async goIdle(stats: PullStatistics): Promise<void> {
    await this.saving; // a save in progress decides whether the keys are in the state
    const keys = this.keys;
    const collect = keys ? keys.idle(stats.received > 0, this.queue.length === 0) : stats.received > 0;
    if (collect) releaseIdleMemory();
  }

  /** The daemon loop: pull every period until stopped; errors are logged and retried next cycle. */
  async loop(): Promise<void> {
    const { log, signal } = this.deps;
    log.info(`Starting data collection every ${this.periodMs / 1000} seconds`);
    while (!signal.aborted) {
      const started = Date.now();
      try {
        const stats = await this.pullOnce();
        if (signal.aborted) break;
        const elapsed = (Date.now() - started) / 1000;
        const wait = Math.max(0, this.periodMs / 1000 - elapsed);
        log.info(`Data collection completed. Elapsed time: ${elapsed.toFixed(3)} seconds. Waiting for ${wait.toFixed(3)} second(s) until the next one`);
        if (wait * 1000 >= IDLE_RELEASE_MIN_WAIT_MS) await this.goIdle(stats);
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
