import { OutputError } from '../errors/collector-error.js';
import { isRefusal } from './refusal.js';
import { backoffDelay } from '../runtime/backoff.js';
import { silentLogger, type Logger } from '../telemetry/logger.js';
import { EmergencyStore } from './emergency-store.js';
import { EncodedBatch, eventCount, partsOf, recordsOf, type Batch, type Submission } from './encoded-batch.js';
import { SenderMonitor } from './sender-monitor.js';
import { validateTag } from './syslog-encoder.js';
import { WRITES_PER_CONNECTION, type Delivery, type DeliveryRecord, type Output, type SenderService } from './types.js';

export interface DeliveryPipelineOptions {
  /** DCSDK `queue_max_size_in_messages` (10000). */
  maxMessages?: number;
  /** `queue_max_size_in_mb` (DEFAULT_QUEUE_MAX_MB; the DCSDK's is 1024), in bytes. */
  maxBytes?: number;
  /** Records per write call (one Buffer): `delivery_batch_max_messages` (DEFAULT_BATCH_MESSAGES). */
  batchSize?: number;
  /** About this many bytes per write call at most (2 MiB): with big events, batches get fewer records. */
  maxBatchBytes?: number;
  /**
   * Batches being written, per connection of an output (Output.connections): handed to the output and not
   * yet flushed (an output that reports flushes, see Output.write) or not yet acknowledged (one that does
   * not). Flushed batches that only wait for their acknowledgement (the settle period) take no place here:
   * they are bounded by time, and by as many more at most. Default WRITES_PER_CONNECTION (16).
   */
  maxInflightBatches?: number;
  /** Wait after a failed write before the next attempt, jittered (the output adds its own connection back-off). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /**
   * Where unacknowledged records go on stop and while an output stays down (emergency persistence), e.g.
   * `<workDir>/state/delivery`.
   */
  emergencyDir?: string;
  /**
   * `emergency_persistence_after_seconds` in ms (60 s): once an output has failed continuously this long,
   * its queued records are spilled to the emergency persistence (and acknowledged) instead of waiting;
   * 0 never spills while running (the queue fills and the pullers wait).
   */
  spillAfterMs?: number;
  /** While spilling, queued records are written to a new spool file at most this often (min(5 s, spillAfterMs)), or when 1 batch is queued. */
  spillFlushMs?: number;
  /** How often the spool size is logged while an output spills or re-sends (60 s). */
  spoolLogPeriodMs?: number;
  /** While an output keeps failing, one line about it per this period at most (60 s), not one per batch. */
  failureLogPeriodMs?: number;
  /** `sender_stats_period_in_sec` in ms (300 s): the monitoring lines; 0 disables them. */
  statsPeriodMs?: number;
  /** On stop, how long writes in flight may take to be acknowledged before they count as not delivered (5 s). */
  stopGraceMs?: number;
  /** Internal log records waiting at most; more are dropped (counted) so logging never blocks. */
  maxInternalPending?: number;
  log?: Logger;
}

/** The queue's byte bound unless configured (`globals.queue_max_size_in_mb`). */
export const DEFAULT_QUEUE_MAX_MB = 32;
/**
 * `delivery_batch_max_messages`: records per write, and per submission of a service runner, the unit an
 * acknowledgement covers (so what a service with dedup keys may send again after a kill -9). 2000, not the
 * earlier 1000: such a service sends one batch per settle cycle, and at 1000 that cycle, not the vendor, held
 * Darktrace and Proofpoint below their bare loops (SDK README, Acknowledgements, has the measured trade).
 */
export const DEFAULT_BATCH_MESSAGES = 2000;
/** About this many bytes per write at most unless configured (`maxBatchBytes`). */
const DEFAULT_BATCH_BYTES = 2 * 1024 * 1024;

/** A write's bounds, resolved once from the options: at most `messages` records and about `bytes`. */
interface BatchLimits {
  messages: number;
  bytes: number;
}

/** The services an output takes when it does not say (custom outputs get events and lookups only). */
const DEFAULT_SERVICES: readonly SenderService[] = ['standard', 'lookup'];

interface Pending {
  bytes: number;
  messages: number;
  /** Chunks still to be acknowledged, over every output. */
  remaining: number;
  /** Chunks no output has written yet: the queue bound counts a submission until it is all written. */
  unwritten: number;
  resolve: () => void;
  reject: (e: unknown) => void;
  /** Counted in the queue bounds (false for internal logs and recovered records). */
  bounded: boolean;
}

interface Chunk {
  pending: Pending;
  service: SenderService;
  records: Batch;
  /** Handed to the output once already (a retry does not count again). */
  written: boolean;
  /** Read back from a spool file (its pending is a placeholder; the file is deleted once all are acked). */
  spool?: SpoolEntry;
  /** Order within the output's queue (set when queued), so retried chunks go back where they were. */
  seq?: number;
  size?: number;
  onWrite: () => void;
  done: () => void;
}

/** One spool file of an output: what it holds and, once loaded for re-sending, its chunks not yet acknowledged. */
interface SpoolEntry {
  file: string;
  count: number;
  bytes: number;
  left?: number;
}

/**
 * Fans records out to every output through one bounded queue per output. A record counts as delivered when
 * every output acknowledged it, or when it was fsync'd to the emergency persistence for an output that has
 * been down longer than `spillAfterMs` (then the pullers keep pulling); a failed write is retried with
 * capped back-off until it succeeds. A spilling output re-sends its spool files in order, before anything
 * newer, once it is back, and deletes each file after all its records were acknowledged. On stop, what is
 * still unacknowledged is written under `state/` too and sent first at the next start. A kill -9 loses
 * nothing: what was neither acknowledged nor fsync'd was not committed, so the pullers fetch it again.
 */
export class DeliveryPipeline implements Delivery {
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly batch: BatchLimits;
  private queuedMessages = 0;
  private queuedBytes = 0;
  private internalPending = 0;
  droppedInternal = 0;
  private readonly waiters: (() => void)[] = [];
  readonly lanes: Lane[];
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private readonly log: Logger;
  private readonly emergency: EmergencyStore | undefined;
  private monitor: SenderMonitor | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  /** Submissions measured and cut by prepare(), until submitted. */
  private readonly prepared = new WeakMap<Submission, { bytes: number; slices: Batch[] }>();

  constructor(
    readonly outputs: readonly Output[],
    private readonly options: DeliveryPipelineOptions = {},
  ) {
    this.maxMessages = options.maxMessages ?? 10_000;
    this.maxBytes = options.maxBytes ?? DEFAULT_QUEUE_MAX_MB * 1024 * 1024;
    this.batch = { messages: options.batchSize ?? DEFAULT_BATCH_MESSAGES, bytes: options.maxBatchBytes ?? DEFAULT_BATCH_BYTES };
    this.log = options.log ?? silentLogger;
    this.emergency = options.emergencyDir ? new EmergencyStore(options.emergencyDir) : undefined;
    this.lanes = outputs.map((o) => new Lane(o, options, this.batch, this.log, this.emergency));
  }

  async start(): Promise<void> {
    // What the emergency persistence kept (at the last stop, or spilled before a crash) goes first.
    for (const lane of this.lanes) lane.openSpool();
    await Promise.all(this.outputs.map((o) => o.start()));
    for (const lane of this.lanes) lane.pump();
    const period = this.options.statsPeriodMs ?? 300_000;
    if (period > 0) this.monitor = new SenderMonitor(this, period, this.log);
    const spillAfter = this.options.spillAfterMs ?? 60_000;
    const every = this.emergency && spillAfter > 0 ? Math.max(20, Math.min(1_000, spillAfter / 4, this.options.spillFlushMs ?? 1_000)) : 1_000;
    // The tick also keeps the process alive while anything is unacknowledged (see busy()): a retry that
    // waits on an output's background reconnect must never let the event loop empty (Node exits 13 then).
    this.tickTimer = setInterval(() => {
      for (const lane of this.lanes) lane.tick();
      if (this.busy()) this.tickTimer?.ref();
      else this.tickTimer?.unref();
    }, every);
    this.tickTimer.unref();
  }

  /** Something submitted is not acknowledged yet, or a spool waits to be re-sent. */
  busy(): boolean {
    return this.inflight.size > 0 || this.lanes.some((l) => l.spooling);
  }

  /** True when some output takes records of `service` (the internal sender skips work otherwise). */
  accepts(service: SenderService): boolean {
    return this.lanes.some((l) => l.accepts(service));
  }

  /**
   * Sizes and cuts `records` as submit() will, and has every output that takes `service` frame the pieces
   * now (see Delivery.prepare): a later submit of this object then hands the outputs bytes ready to write.
   * Events of several tags are not framed ahead: their pieces are written together, as one write.
   */
  prepare(records: Submission, service: SenderService = 'standard'): void {
    if (records.length === 0 || this.prepared.has(records)) return;
    let cut: { bytes: number; slices: Batch[] };
    try {
      cut = this.cut(records);
    } catch {
      return; // an invalid tag: submit() throws it
    }
    this.prepared.set(records, cut);
    if (partsOf(records).length > 1) return;
    for (const lane of this.lanes) {
      if (!lane.accepts(service) || !lane.output.prepare) continue;
      for (const slice of cut.slices) if (!(slice instanceof EncodedBatch) || lane.output.writeBatches) lane.output.prepare(slice, service);
    }
  }

  /** The queue-bound size of a submission and its write-sized pieces; throws OutputError 601 for an invalid tag. */
  private cut(records: Submission): { bytes: number; slices: Batch[] } {
    const parts = partsOf(records);
    if (parts.length === 1) {
      const bytes = measure(parts[0]!);
      return { bytes, slices: this.slice(parts[0]!, bytes) };
    }
    let bytes = 0;
    const slices: Batch[] = [];
    for (const part of parts) {
      const size = measure(part);
      bytes += size;
      slices.push(...this.slice(part, size));
    }
    return { bytes, slices };
  }

  async submit(submission: Submission, service: SenderService = 'standard'): Promise<{ delivered: Promise<void> }> {
    const count = eventCount(submission);
    if (count === 0) return { delivered: Promise.resolve() };
    const prepared = this.prepared.get(submission);
    if (prepared) this.prepared.delete(submission);
    const { bytes, slices } = prepared ?? this.cut(submission);
    const bounded = service !== 'internal';
    if (!bounded) {
      // Internal logs never wait (a logger must not block); past the cap they are dropped and counted.
      if (this.internalPending + count > (this.options.maxInternalPending ?? 5_000)) {
        this.droppedInternal += count;
        const dropped = Promise.reject(new Error('internal log queue full'));
        dropped.catch(() => undefined);
        return { delivered: dropped };
      }
    } else {
      // Back-pressure: a batch larger than the whole queue is still admitted once the queue is empty. An
      // output that spills makes room at once instead.
      while (!this.stopped && this.queuedMessages > 0 && (this.queuedMessages + count > this.maxMessages || this.queuedBytes + bytes > this.maxBytes)) {
        if (this.lanes.some((l) => l.spill(true))) continue;
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    }
    if (this.stopped) {
      const rejected = Promise.reject(new Error('delivery stopped'));
      rejected.catch(() => undefined);
      return { delivered: rejected };
    }
    const lanes = this.lanes.filter((l) => l.accepts(service));
    if (lanes.length === 0) return { delivered: Promise.resolve() };
    if (bounded) {
      this.queuedMessages += count;
      this.queuedBytes += bytes;
    } else {
      this.internalPending += count;
    }
    const delivered = new Promise<void>((resolve, reject) => {
      const pending: Pending = { bytes, messages: count, remaining: lanes.length * slices.length, unwritten: lanes.length * slices.length, resolve, reject, bounded };
      for (const lane of lanes) {
        lane.push(
          slices.map((slice) => ({
            pending,
            service,
            records: slice,
            written: false,
            onWrite: () => this.written(pending),
            done: () => this.settle(pending),
          })),
        );
      }
    });
    delivered.catch(() => undefined);
    const tracked = delivered.finally(() => this.inflight.delete(tracked));
    tracked.catch(() => undefined);
    this.inflight.add(tracked);
    this.tickTimer?.ref();
    return { delivered };
  }

  /** Cuts a submission into write-sized pieces: at most `batchSize` records and about `maxBatchBytes`. */
  private slice<B extends Batch>(records: B, bytes: number): B[] {
    const { messages: batchSize, bytes: maxBytes } = this.batch;
    if (records.length <= batchSize && bytes <= maxBytes) return [records];
    const slices: B[] = [];
    let start = 0;
    let size = 0;
    for (let i = 0; i < records.length; i++) {
      size += eventSize(records, i);
      if (i + 1 - start >= batchSize || size >= maxBytes || i === records.length - 1) {
        slices.push(records.slice(start, i + 1) as B);
        start = i + 1;
        size = 0;
      }
    }
    return slices;
  }

  /**
   * Every output has taken the submission for writing: it leaves the queue bound (as in the DCSDK, where
   * the sender takes items off the queue). Until acknowledged it stays in the outputs' in-flight window,
   * itself bounded (2 × maxInflightBatches × maxBatchBytes per connection of an output), and is written again if the write fails.
   */
  private written(pending: Pending): void {
    pending.unwritten--;
    if (pending.unwritten > 0) return;
    if (pending.bounded) {
      this.queuedMessages -= pending.messages;
      this.queuedBytes -= pending.bytes;
    } else {
      this.internalPending -= pending.messages;
    }
    const waiting = this.waiters.splice(0);
    for (const w of waiting) w();
  }

  private settle(pending: Pending): void {
    pending.remaining--;
    if (pending.remaining > 0) return;
    pending.resolve();
  }

  /** Events waiting for one output (not yet written to it, or written and failed), for metrics. */
  pendingFor(outputName: string): { messages: number; bytes: number } {
    const lane = this.lanes.find((l) => l.output.name === outputName);
    return lane ? lane.pending() : { messages: 0, bytes: 0 };
  }

  get queueSize(): { messages: number; bytes: number } {
    return { messages: this.queuedMessages, bytes: this.queuedBytes };
  }

  /** Spooled records of one output (the emergency persistence): events, bytes on disk, files. */
  spooledFor(outputName: string): { messages: number; bytes: number; files: number } {
    const lane = this.lanes.find((l) => l.output.name === outputName);
    return lane ? lane.spooled() : { messages: 0, bytes: 0, files: 0 };
  }

  /**
   * Everything submitted so far is acknowledged (or spooled for an output that is down), and the spool of
   * every output that is up was re-sent.
   */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    while (!this.stopped && this.lanes.some((l) => l.resending())) await new Promise((r) => setTimeout(r, 50));
  }

  /**
   * Waits until everything submitted is acknowledged (true), or gives up (false) after `timeoutMs`, or
   * sooner once an output has been failing for `downAfterMs`: then waiting longer is pointless and stop()
   * hands the rest to the emergency persistence.
   */
  async drain(timeoutMs = 30_000, downAfterMs = 3_000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.inflight.size === 0 && (this.stopped || !this.lanes.some((l) => l.spooling))) return true;
      if (performance.now() > deadline) return false;
      if (this.lanes.some((l) => l.failingForMs() > downAfterMs)) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  ready(): boolean {
    return this.outputs.every((o) => o.ready());
  }

  /** The output that has refused us the longest (see isRefusal), with its error, if any does now. */
  refusal(): { output: string; error: OutputError; forMs: number } | undefined {
    let worst: { output: string; error: OutputError; forMs: number } | undefined;
    for (const lane of this.lanes) {
      const forMs = lane.refusedForMs();
      if (forMs > 0 && isRefusal(lane.lastError) && (!worst || forMs > worst.forMs)) worst = { output: lane.output.name, error: lane.lastError, forMs };
    }
    return worst;
  }

  /**
   * Stops writing, within `budgetMs` whatever the outputs do. Writes in flight get a moment to be
   * acknowledged; what is left unacknowledged is written to the emergency persistence (then acknowledged,
   * so the pullers may commit) or, without one (or when the disk refuses), stays unacknowledged and is
   * pulled again. `abandon`: nothing is spooled, everything unacknowledged fails with that error (a refused
   * output under `--once`: no checkpoint may move past what was not delivered).
   */
  stop(options: { budgetMs?: number; abandon?: Error } = {}): Promise<void> {
    this.stopping ??= this.doStop(options.budgetMs ?? 10_000, options.abandon);
    return this.stopping;
  }

  private async doStop(budgetMs: number, abandon: Error | undefined): Promise<void> {
    const deadline = performance.now() + budgetMs;
    const left = () => Math.max(0, deadline - performance.now());
    this.stopped = true;
    this.monitor?.stop();
    clearInterval(this.tickTimer);
    for (const w of this.waiters.splice(0)) w();
    // Half the budget at most for writes in flight; the rest for closing and spooling.
    const grace = abandon ? 0 : Math.min(this.options.stopGraceMs ?? 5_000, budgetMs / 2);
    await Promise.all(this.lanes.map((l) => l.halt(grace)));
    // A receiver that stalls must not hold the stop: closing gets a share of what is left, then it is abandoned.
    await Promise.race([Promise.all(this.outputs.map((o) => o.stop().catch(() => undefined))), sleepMs(left() / 2)]);
    await Promise.all(this.lanes.map((l) => l.waitIdle(Math.min(2_000, grace, left() / 2))));
    for (const lane of this.lanes) {
      const left = lane.takeQueued();
      if (left.length === 0) continue;
      const records = left.flatMap((c) => recordsOf(c.records).map((record) => ({ service: c.service, record })));
      if (abandon) {
        for (const c of left) c.pending.reject(abandon);
        this.log.warning(`${lane.output.name}: ${records.length} message(s) were not delivered; nothing was committed past them, they are pulled again at the next run`);
        continue;
      }
      if (!this.emergency) {
        for (const c of left) c.pending.reject(new Error('delivery stopped'));
        this.log.warning(`${lane.output.name}: ${records.length} message(s) were not delivered; they will be pulled again`);
        continue;
      }
      try {
        const file = this.emergency.save(lane.output.name, records);
        this.log.info(`[EMERGENCY PERSISTENCE SYSTEM] ${lane.output.name} -> ${records.length} message(s) saved to ${file}; they are sent first at the next start`);
        for (const c of left) c.done();
      } catch (error) {
        for (const c of left) c.pending.reject(error);
        this.log.error(`[EMERGENCY PERSISTENCE SYSTEM] ${lane.output.name} -> cannot save ${records.length} message(s): ${(error as Error).message}; they will be pulled again`);
      }
    }
    // Everything is settled one way or the other now; a recovered file that could not be re-saved stays on
    // disk and is sent at the next start.
    this.inflight.clear();
  }
}

/**
 * The queue-bound size of a submission (characters of strings, bytes of an EncodedBatch, plus the tag and
 * ~40 for the header per event); throws OutputError 601 for an invalid tag.
 */
function measure(records: Batch): number {
  if (records instanceof EncodedBatch) validateTag(records.tag);
  else {
    let lastTag = '';
    for (const r of records) {
      if (r.tag === lastTag) continue;
      validateTag(r.tag);
      lastTag = r.tag;
    }
  }
  return sizeOf(records);
}

/** The queue-bound size of each event beyond its message and tag: about its syslog header. */
const HEADER_ESTIMATE = 40;

/** measure() without the tag check (for what was measured at submit). */
function sizeOf(records: Batch): number {
  if (records instanceof EncodedBatch) return records.byteLength + records.length * (records.tag.length + HEADER_ESTIMATE);
  let bytes = 0;
  for (let i = 0; i < records.length; i++) bytes += eventSize(records, i);
  return bytes;
}

/** The queue-bound size of event `i` of a batch. */
function eventSize(records: Batch, i: number): number {
  if (records instanceof EncodedBatch) return records.messageBytes(i) + records.tag.length + HEADER_ESTIMATE;
  const r = records[i]!;
  return r.message.length + r.tag.length + HEADER_ESTIMATE;
}

/** A refusal counts as ongoing while the last one is at most this old (longer than the retry cap). */
const REFUSAL_MEMORY_MS = 90_000;

/** A timer that does not keep the process alive by itself. */
function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Seconds for a log line: one decimal below 10 s (a low threshold would read "down for 0 s"). */
function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

/** Approximate size of a chunk (characters), cached on the chunk. */
function chunkSize(c: Chunk): number {
  c.size ??= sizeOf(c.records);
  return c.size;
}

/**
 * The queue of one output: batches are written in order, several in flight, acknowledged as they settle.
 * While the output spills (`spooling`), the queue goes to spool files instead and only the spool is
 * written, oldest file first; once the spool is empty, the queue is written directly again.
 */
export class Lane {
  private readonly queue: Chunk[] = [];
  private seq = 0;
  private readonly inflightWrites = new Set<{ taken: Chunk[]; abandoned: boolean; fromSpool: boolean }>();
  private inflight = 0;
  /** Writes in flight not yet flushed (see maxInflightBatches). */
  private writing = 0;
  /** Writes in flight taken from the queue (a spill waits for them: they may come back, and go first). */
  private queueInflight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private failures = 0;
  private failingSince = 0;
  /** When the last write failed: writes begun before it fail for the same cause (one connection lost). */
  private lastFailedAt = 0;
  /** Since when the output refuses us (0: it has not since the last success); see refusedForMs(). */
  private refusedSince = 0;
  private lastRefusalAt = Number.NEGATIVE_INFINITY;
  private lastFailureLogAt = 0;
  private lastRefusalLogAt = 0;
  /** The error of the last failed write, until a write succeeds. */
  lastError: unknown;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The output said it was not ready when the last write failed: retry as soon as it is again. */
  private failedWhileDown = false;
  private halted = false;
  private started = false;
  private readonly services: readonly SenderService[];
  /** True from the first spill (or spool files found at start) until the spool was re-sent. */
  spooling = false;
  /** Spool files not loaded yet, oldest first. */
  private readonly spoolFiles: SpoolEntry[] = [];
  /** The spool file being re-sent and its chunks still to write (or to write again). */
  private current: SpoolEntry | undefined;
  private readonly resend: Chunk[] = [];
  private resendSeq = 0;
  private lastSpillAt = 0;
  private lastSpoolLogAt = 0;
  /** Records re-sent from the spool since spooling began (the completion line). */
  private resent = 0;
  private readonly spillAfterMs: number;
  /** Acknowledged messages per service (the monitoring lines). */
  readonly sent: Record<SenderService, number> = { standard: 0, internal: 0, lookup: 0 };
  readonly sentBytes: Record<SenderService, number> = { standard: 0, internal: 0, lookup: 0 };
  readonly busyMs: Record<SenderService, number> = { standard: 0, internal: 0, lookup: 0 };

  constructor(
    readonly output: Output,
    private readonly options: DeliveryPipelineOptions,
    private readonly batch: BatchLimits,
    private readonly log: Logger,
    private readonly store?: EmergencyStore,
  ) {
    this.services = output.services ?? DEFAULT_SERVICES;
    this.spillAfterMs = options.spillAfterMs ?? 60_000;
  }

  accepts(service: SenderService): boolean {
    return this.services.includes(service);
  }

  queued(service?: SenderService): number {
    let n = 0;
    for (const c of this.queue) if (!service || c.service === service) n += c.records.length;
    for (const c of this.resend) if (!service || c.service === service) n += c.records.length;
    return n;
  }

  pending(): { messages: number; bytes: number } {
    let messages = 0;
    let bytes = 0;
    for (const c of [...this.resend, ...this.queue]) {
      messages += c.records.length;
      bytes += chunkSize(c);
    }
    return { messages, bytes };
  }

  /** Events in this output's spool files (loaded or not), their size on disk and the number of files. */
  spooled(): { messages: number; bytes: number; files: number } {
    let messages = 0;
    let bytes = 0;
    const all = this.current ? [this.current, ...this.spoolFiles] : this.spoolFiles;
    for (const f of all) {
      messages += f.count;
      bytes += f.bytes;
    }
    return { messages, bytes, files: all.length };
  }

  /** Spooling while the output is up (or only briefly failing): the spool is being re-sent. */
  resending(): boolean {
    return this.spooling && (this.failures === 0 || this.failingForMs() < Math.max(this.spillAfterMs, 1_000));
  }

  /** At start: the files left by the last run (stop or crash) are re-sent before anything else. */
  openSpool(): void {
    if (!this.store) return;
    const files = this.store.list(this.output.name);
    if (files.length === 0) {
      this.log.info(`[EMERGENCY PERSISTENCE SYSTEM] ${this.output.name} -> Nothing retrieved from the persistence.`);
      return;
    }
    let count = 0;
    for (const file of files) {
      const entry = { file, count: this.store.count(file), bytes: this.store.size(file) };
      count += entry.count;
      this.spoolFiles.push(entry);
    }
    this.spooling = true;
    this.resent = 0;
    this.log.info(`[EMERGENCY PERSISTENCE SYSTEM] ${this.output.name} -> ${count} message(s) retrieved from the persistence, sending them first`);
  }

  /**
   * Called about every second: starts spilling once the output has failed for `spillAfterMs` with records
   * waiting, spills what was queued since, and logs the spool size now and then.
   */
  tick(): void {
    if (this.halted || !this.started) return;
    const now = performance.now();
    if (this.retryTimer && this.failedWhileDown && this.output.ready()) {
      // The output's background reconnect succeeded: no need to sit out the rest of the back-off. Write at
      // once: the retry timer was what would have, and nothing else may be left to wake this lane.
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.failedWhileDown = false;
      this.pump();
    }
    if (!this.store) return;
    if (!this.spooling) {
      if (this.spillAfterMs <= 0 || this.failures === 0 || this.failingForMs() < this.spillAfterMs) return;
      if (this.queue.length === 0 && this.queueInflight === 0) return;
      this.spooling = true;
      this.resent = 0;
      this.lastSpillAt = 0;
      this.lastSpoolLogAt = now;
    }
    this.spill(false);
    if (now - this.lastSpoolLogAt >= (this.options.spoolLogPeriodMs ?? 60_000)) {
      this.lastSpoolLogAt = now;
      const { messages, bytes, files } = this.spooled();
      this.log.info(`[EMERGENCY PERSISTENCE SYSTEM] Output ${this.output.name} spool: ${messages} event(s) in ${files} file(s), ${bytes} bytes under ${this.store.dir}${this.failures > 0 ? ` (down for ${seconds(this.failingForMs())} s)` : ' (re-sending)'}`);
    }
    this.pump();
  }

  /**
   * While spooling: moves the queue to a new spool file (fsync'd) and acknowledges it for this output.
   * Waits for the writes taken from the queue (a failed one comes back to its place first), and for
   * `spillFlushMs` since the last spill unless a batch is waiting or `urgent` (the queue is full).
   * Returns whether anything was spilled.
   */
  spill(urgent: boolean): boolean {
    if (!this.store || !this.spooling || this.halted || this.queue.length === 0 || this.queueInflight > 0) return false;
    const now = performance.now();
    const flushMs = this.options.spillFlushMs ?? Math.min(5_000, Math.max(this.spillAfterMs, 1));
    if (!urgent && this.lastSpillAt !== 0 && now - this.lastSpillAt < flushMs && this.queued() < this.batch.messages) return false;
    const chunks = this.queue.splice(0);
    const records = chunks.flatMap((c) => recordsOf(c.records).map((record) => ({ service: c.service, record })));
    let file: string;
    try {
      file = this.store.save(this.output.name, records)!;
    } catch (error) {
      // The disk refuses: keep the records queued (back-pressure), try again at the next tick.
      this.queue.unshift(...chunks);
      this.log.error(`[EMERGENCY PERSISTENCE SYSTEM] Output ${this.output.name}: cannot spill ${records.length} event(s) to ${this.store.dir}: ${(error as Error).message}; they stay queued`);
      this.lastSpillAt = now;
      return false;
    }
    if (this.lastSpillAt === 0 && this.failures === 0) {
      // Spooling only because older spooled records are being re-sent: newer ones queue up behind them on disk.
      this.log.info(`[EMERGENCY PERSISTENCE SYSTEM] Output ${this.output.name} is re-sending its spool: spilling ${records.length} newer event(s) to ${file} to keep the order`);
    } else if (this.lastSpillAt === 0) {
      this.log.warning(`[EMERGENCY PERSISTENCE SYSTEM] Output ${this.output.name} down for ${seconds(this.failingForMs())} s: spilling ${records.length} queued event(s) to ${file}; the pullers go on, the spool is re-sent first once the output is back`);
    } else {
      this.log.debug(`[EMERGENCY PERSISTENCE SYSTEM] Output ${this.output.name}: spilled ${records.length} event(s) to ${file}`);
    }
    this.lastSpillAt = now;
    this.spoolFiles.push({ file, count: records.length, bytes: this.store.size(file) });
    for (const c of chunks) {
      if (!c.written) {
        c.written = true;
        c.onWrite();
      }
      c.done();
    }
    return true;
  }

  /** Loads the oldest spool file as chunks to re-send; false when the spool is empty. */
  private loadNextSpoolFile(): boolean {
    for (;;) {
      const entry = this.spoolFiles.shift();
      if (!entry || !this.store) return false;
      const loaded = this.store.loadFile(entry.file, this.batch.messages);
      if (loaded.batches.length === 0) {
        this.store.remove(entry.file);
        continue;
      }
      entry.count = loaded.count;
      entry.left = loaded.batches.length;
      this.current = entry;
      const placeholder: Pending = { bytes: 0, messages: 0, remaining: 1, unwritten: 0, resolve: () => undefined, reject: () => undefined, bounded: false };
      for (const batch of loaded.batches) {
        this.resend.push({
          pending: placeholder,
          service: batch.service,
          records: batch.records,
          written: true,
          seq: this.resendSeq++,
          spool: entry,
          onWrite: () => undefined,
          done: () => {
            if (--entry.left! > 0) return;
            // Every record of the file was acknowledged: only now may the file go.
            this.store!.remove(entry.file);
            this.resent += entry.count;
            if (this.current === entry) this.current = undefined;
          },
        });
      }
      return true;
    }
  }

  /** Leaves spooling once the spool was re-sent and the output works (or says it is ready). */
  private finishSpooling(): boolean {
    if (this.current || this.resend.length > 0 || this.spoolFiles.length > 0 || this.queueInflight > 0) return false;
    if (this.failures > 0 && !this.output.ready()) return false;
    this.spooling = false;
    this.lastSpillAt = 0;
    if (this.resent > 0) this.log.info(`[EMERGENCY PERSISTENCE SYSTEM] Output ${this.output.name}: ${this.resent} spooled event(s) re-sent; the spool is empty, sending directly again`);
    this.resent = 0;
    return true;
  }

  /**
   * Puts failed chunks back in `into` in their original order: the writes in flight fail one after
   * the other, so plain unshifts would reverse them.
   */
  private requeue(taken: Chunk[], into: Chunk[]): void {
    let i = 0;
    // Failed chunks of earlier writes were requeued first and sit at the front; merge by sequence.
    while (i < into.length && (into[i]!.seq ?? 0) < (taken[0]!.seq ?? 0)) i++;
    into.splice(i, 0, ...taken);
  }

  push(chunks: Chunk[]): void {
    for (const c of chunks) {
      c.seq = this.seq++;
      this.queue.push(c);
    }
    if (this.started) this.pump();
  }

  failingForMs(): number {
    return this.failures > 0 ? performance.now() - this.failingSince : 0;
  }

  pump(): void {
    this.started = true;
    // After a failure one write at a time, flushed or not, until one succeeds.
    const maxWriting = this.failures > 0 ? 1 : (this.options.maxInflightBatches ?? WRITES_PER_CONNECTION) * (this.output.connections ?? 1);
    const maxInflight = this.failures > 0 ? 1 : 2 * maxWriting;
    const { messages: batchSize, bytes: maxBytes } = this.batch;
    while (!this.halted && !this.retryTimer && this.writing < maxWriting && this.inflight < maxInflight) {
      let source = this.queue;
      if (this.spooling) {
        // Only the spool is written while spooling: it is older than anything queued.
        if (this.resend.length === 0 && !this.current && !this.loadNextSpoolFile()) {
          if (this.finishSpooling()) continue;
          break;
        }
        source = this.resend;
      }
      if (source.length === 0) break;
      const fromSpool = source === this.resend;
      // Group chunks of the same sender service up to the batch size: one write, one Buffer.
      const service = source[0]!.service;
      const taken: Chunk[] = [];
      let count = 0;
      let size = 0;
      while (
        source.length > 0 &&
        source[0]!.service === service &&
        (count === 0 || (count + source[0]!.records.length <= batchSize && size + chunkSize(source[0]!) <= maxBytes))
      ) {
        const c = source.shift()!;
        size += chunkSize(c);
        if (!c.written) {
          c.written = true;
          c.onWrite();
        }
        taken.push(c);
        count += c.records.length;
      }
      this.inflight++;
      this.writing++;
      if (!fromSpool) this.queueInflight++;
      const write = { taken, abandoned: false, fromSpool };
      this.inflightWrites.add(write);
      const began = performance.now();
      // Frees the write's place in the window once, at its flush or at its outcome.
      let writing = true;
      const flushed = (): void => {
        if (!writing || write.abandoned) return;
        writing = false;
        this.writing--;
        this.pump();
      };
      this.send(taken, service, flushed).then(
        () => {
          this.inflightWrites.delete(write);
          if (write.abandoned) return; // stop() already persisted or rejected these
          if (writing) this.writing--;
          writing = false;
          this.inflight--;
          if (!fromSpool) this.queueInflight--;
          if (this.failures > 0 && (this.lastFailureLogAt > 0 || this.lastRefusalLogAt > 0)) this.log.info(`Output ${this.output.name} delivers again after ${seconds(this.failingForMs())} s of failures`);
          this.failures = 0;
          this.refusedSince = 0;
          this.lastRefusalAt = Number.NEGATIVE_INFINITY;
          this.lastError = undefined;
          this.lastFailureLogAt = 0;
          this.lastRefusalLogAt = 0;
          this.sent[service] += count;
          this.busyMs[service] += performance.now() - began;
          for (const t of taken) t.done();
          this.afterWrite();
        },
        (error: unknown) => {
          this.inflightWrites.delete(write);
          if (write.abandoned) return;
          if (writing) this.writing--;
          writing = false;
          this.inflight--;
          if (!fromSpool) this.queueInflight--;
          this.requeue(taken, fromSpool ? this.resend : this.queue);
          if (this.failures === 0) this.failingSince = performance.now();
          // The writes in flight on a connection that dies all fail, one after the other: that is one
          // failure for the back-off (else 16 of them would push the retry towards its cap at once).
          const sameCause = this.failures > 0 && began < this.lastFailedAt;
          this.lastFailedAt = performance.now();
          const wait = backoffDelay(sameCause ? this.failures - 1 : this.failures, { initialMs: this.options.retryInitialMs ?? 100, maxMs: this.options.retryMaxMs ?? 60_000 });
          if (!sameCause) this.failures++;
          this.failedWhileDown = !this.output.ready();
          if (isRefusal(error)) {
            // A refusal after a long stretch of other failures starts a new count.
            if (performance.now() - this.lastRefusalAt > REFUSAL_MEMORY_MS) this.refusedSince = performance.now();
            this.lastRefusalAt = performance.now();
            this.lastError = error;
          } else if (!isRefusal(this.lastError) || performance.now() - this.lastRefusalAt > REFUSAL_MEMORY_MS) {
            this.lastError = error;
          }
          if (!this.halted) {
            this.reportFailure(count, error);
            clearTimeout(this.retryTimer);
            this.retryTimer = setTimeout(() => {
              this.retryTimer = undefined;
              this.pump();
            }, wait);
          }
          this.afterWrite();
        },
      );
    }
  }

  /**
   * Hands the chunks of one write to the output: records as they are; events as bytes (EncodedBatch) as
   * they are to an output that frames bytes, decoded into records for any other.
   */
  private send(taken: readonly Chunk[], service: SenderService, flushed: () => void): Promise<void> {
    if (taken.length === 1 && !(taken[0]!.records instanceof EncodedBatch)) return this.output.write(taken[0]!.records, service, flushed);
    const batches = taken.map((t) => t.records);
    if (this.output.writeBatches && batches.some((b) => b instanceof EncodedBatch)) return this.output.writeBatches(batches, service, flushed);
    return this.output.write(batches.flatMap(recordsOf), service, flushed);
  }

  /**
   * One line per failure streak, then one per `failureLogPeriodMs` while it lasts (not one per batch: a
   * daemon whose certificate is refused would otherwise log every retry). A refusal (certificate rejected,
   * server not trusted) is an ERROR with the remedy: it does not fix itself; anything else is a WARNING.
   */
  private reportFailure(count: number, error: unknown): void {
    const now = performance.now();
    const period = this.options.failureLogPeriodMs ?? 60_000;
    const message = error instanceof OutputError ? error.toLine() : (error as Error).message;
    const waiting = this.queued() + count;
    // Refusals and other failures are limited apart: a TLS rejection sometimes shows as a reset first, and
    // must still get its ERROR line with the remedy.
    if (isRefusal(error)) {
      if (this.lastRefusalLogAt > 0 && now - this.lastRefusalLogAt < period) return;
      const first = this.lastRefusalLogAt === 0;
      this.lastRefusalLogAt = now;
      this.log.error(`${message}. ${error.remedy ?? ''} Output ${this.output.name}: ${waiting} event(s) wait${first ? '' : ` (refused for ${seconds(this.refusedForMs())} s)`}; retrying with back-off`);
      return;
    }
    if (this.lastFailureLogAt > 0 && now - this.lastFailureLogAt < period) return;
    const first = this.lastFailureLogAt === 0;
    this.lastFailureLogAt = now;
    if (first) {
      this.log.warning(`Output ${this.output.name} failed to deliver ${count} message(s): ${message}; retrying`);
    } else {
      this.log.warning(`Output ${this.output.name} still failing after ${seconds(this.failingForMs())} s: ${message}; ${waiting} event(s) wait, retrying`);
    }
  }

  /**
   * The output has refused us (see isRefusal), recently and without a success since, for this long (0: it
   * has not). Resets and timeouts in between do not end the count: a rejected TLS handshake sometimes
   * ends in a reset instead of the alert.
   */
  refusedForMs(): number {
    if (!this.refusedSince || performance.now() - this.lastRefusalAt > REFUSAL_MEMORY_MS) return 0;
    return performance.now() - this.refusedSince;
  }

  private afterWrite(): void {
    if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    this.pump();
  }

  /** No new writes; resolves when those in flight settled or after `timeoutMs`. */
  async halt(timeoutMs: number): Promise<void> {
    this.halted = true;
    clearTimeout(this.retryTimer);
    await this.waitIdle(timeoutMs);
  }

  waitIdle(timeoutMs: number): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Removes and returns every queued chunk not yet acknowledged (after halt), including those of writes
   * that still hang: those writes are abandoned, so a late outcome can no longer settle them twice. Chunks
   * read back from the spool are left out: their file stays until all of them were acknowledged, and is
   * sent again at the next start (before the chunks returned here, which are newer).
   */
  takeQueued(): Chunk[] {
    const hanging: Chunk[] = [];
    for (const write of this.inflightWrites) {
      write.abandoned = true;
      if (!write.fromSpool) hanging.push(...write.taken);
    }
    this.inflightWrites.clear();
    this.inflight = 0;
    this.writing = 0;
    this.queueInflight = 0;
    this.resend.splice(0);
    return [...hanging, ...this.queue.splice(0)].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  }
}
