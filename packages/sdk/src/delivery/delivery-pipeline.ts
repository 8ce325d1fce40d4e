import { silentLogger, type Logger } from '../telemetry/logger.js';
import { EmergencyStore } from './emergency-store.js';
import { SenderMonitor } from './sender-monitor.js';
import { validateTag } from './syslog-encoder.js';
import type { Delivery, DeliveryRecord, Output, SenderService } from './types.js';

export interface DeliveryPipelineOptions {
  /** DCSDK `queue_max_size_in_messages` (10000). */
  maxMessages?: number;
  /** DCSDK `queue_max_size_in_mb` (1024), in bytes. */
  maxBytes?: number;
  /** Records per write call (one Buffer). */
  batchSize?: number;
  /** About this many bytes per write call at most (2 MiB): with big events, batches get fewer records. */
  maxBatchBytes?: number;
  /** Batches written but not yet acknowledged, per output (pipelining over the acknowledgement delay). */
  maxInflightBatches?: number;
  /** Wait after a failed write before the next attempt (the output adds its own connection back-off). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Where unacknowledged records go on stop (emergency persistence), e.g. `<workDir>/state/delivery`. */
  emergencyDir?: string;
  /** `sender_stats_period_in_sec` in ms (300 s): the monitoring lines; 0 disables them. */
  statsPeriodMs?: number;
  /** On stop, how long writes in flight may take to be acknowledged before they count as not delivered (5 s). */
  stopGraceMs?: number;
  /** Internal log records waiting at most; more are dropped (counted) so logging never blocks. */
  maxInternalPending?: number;
  log?: Logger;
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
  records: readonly DeliveryRecord[];
  /** Handed to the output once already (a retry does not count again). */
  written: boolean;
  /** Order within the output's queue (set when queued), so retried chunks go back where they were. */
  seq?: number;
  size?: number;
  onWrite: () => void;
  done: () => void;
}

/**
 * Fans records out to every output through one bounded queue per output. A record counts as delivered when
 * every output acknowledged it; a failed write is retried with capped back-off until it succeeds. On stop,
 * what is still unacknowledged is written under `state/` (emergency persistence) and only then
 * acknowledged; it is sent first at the next start. A kill -9 loses nothing either: what was not
 * acknowledged was not committed, so the pullers fetch it again.
 */
export class DeliveryPipeline implements Delivery {
  private readonly maxMessages: number;
  private readonly maxBytes: number;
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

  constructor(
    readonly outputs: readonly Output[],
    private readonly options: DeliveryPipelineOptions = {},
  ) {
    this.maxMessages = options.maxMessages ?? 10_000;
    this.maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
    this.log = options.log ?? silentLogger;
    this.lanes = outputs.map((o) => new Lane(o, options, this.log));
    this.emergency = options.emergencyDir ? new EmergencyStore(options.emergencyDir) : undefined;
  }

  async start(): Promise<void> {
    this.recover();
    await Promise.all(this.outputs.map((o) => o.start()));
    for (const lane of this.lanes) lane.pump();
    const period = this.options.statsPeriodMs ?? 300_000;
    if (period > 0) this.monitor = new SenderMonitor(this, period, this.log);
  }

  /** Queues what the emergency persistence kept at the last stop, ahead of everything else. */
  private recover(): void {
    if (!this.emergency) return;
    for (const lane of this.lanes) {
      const recoveredChunks: Chunk[] = [];
      for (const file of this.emergency.load(lane.output.name)) {
        let left = file.batches.length;
        if (left === 0) {
          this.emergency.remove(file.file);
          continue;
        }
        // Tracked like a submission, so flush()/drain() wait for the recovered records too.
        let fileDone: () => void = () => undefined;
        const recovered = new Promise<void>((resolve) => (fileDone = resolve));
        const tracked = recovered.finally(() => this.inflight.delete(tracked));
        this.inflight.add(tracked);
        this.log.info(`[EMERGENCY PERSISTENCE SYSTEM] ${lane.output.name} -> ${file.count} message(s) retrieved from the persistence, sending them first`);
        const chunks: Chunk[] = [];
        for (const batch of file.batches) {
          const pending: Pending = { bytes: 0, messages: batch.records.length, remaining: 1, unwritten: 1, resolve: () => undefined, reject: () => undefined, bounded: false };
          chunks.push({
            pending,
            service: batch.service,
            records: batch.records,
            written: false,
            onWrite: () => undefined,
            done: () => {
              if (--left > 0) return;
              this.emergency!.remove(file.file);
              fileDone();
            },
          });
        }
        recoveredChunks.push(...chunks);
      }
      // Oldest file first, in file order, ahead of anything submitted.
      if (recoveredChunks.length > 0) lane.unshift(recoveredChunks);
      else this.log.info(`[EMERGENCY PERSISTENCE SYSTEM] ${lane.output.name} -> Nothing retrieved from the persistence.`);
    }
  }

  /** True when some output takes records of `service` (the internal sender skips work otherwise). */
  accepts(service: SenderService): boolean {
    return this.lanes.some((l) => l.accepts(service));
  }

  async submit(records: readonly DeliveryRecord[], service: SenderService = 'standard'): Promise<{ delivered: Promise<void> }> {
    if (records.length === 0) return { delivered: Promise.resolve() };
    let bytes = 0;
    let lastTag = '';
    for (const r of records) {
      if (r.tag !== lastTag) {
        validateTag(r.tag);
        lastTag = r.tag;
      }
      bytes += r.message.length + r.tag.length + 40;
    }
    const bounded = service !== 'internal';
    if (!bounded) {
      // Internal logs never wait (a logger must not block); past the cap they are dropped and counted.
      if (this.internalPending + records.length > (this.options.maxInternalPending ?? 5_000)) {
        this.droppedInternal += records.length;
        const dropped = Promise.reject(new Error('internal log queue full'));
        dropped.catch(() => undefined);
        return { delivered: dropped };
      }
    } else {
      // Back-pressure: a batch larger than the whole queue is still admitted once the queue is empty.
      while (!this.stopped && this.queuedMessages > 0 && (this.queuedMessages + records.length > this.maxMessages || this.queuedBytes + bytes > this.maxBytes)) {
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
      this.queuedMessages += records.length;
      this.queuedBytes += bytes;
    } else {
      this.internalPending += records.length;
    }
    const slices = this.slice(records, bytes);
    const delivered = new Promise<void>((resolve, reject) => {
      const pending: Pending = { bytes, messages: records.length, remaining: lanes.length * slices.length, unwritten: lanes.length * slices.length, resolve, reject, bounded };
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
    return { delivered };
  }

  /** Cuts a submission into write-sized pieces: at most `batchSize` records and about `maxBatchBytes`. */
  private slice(records: readonly DeliveryRecord[], bytes: number): (readonly DeliveryRecord[])[] {
    const batchSize = this.options.batchSize ?? 1000;
    const maxBytes = this.options.maxBatchBytes ?? 2 * 1024 * 1024;
    if (records.length <= batchSize && bytes <= maxBytes) return [records];
    const slices: (readonly DeliveryRecord[])[] = [];
    let start = 0;
    let size = 0;
    for (let i = 0; i < records.length; i++) {
      size += records[i]!.message.length + records[i]!.tag.length + 40;
      if (i + 1 - start >= batchSize || size >= maxBytes || i === records.length - 1) {
        slices.push(records.slice(start, i + 1));
        start = i + 1;
        size = 0;
      }
    }
    return slices;
  }

  /**
   * Every output has taken the submission for writing: it leaves the queue bound (as in the DCSDK, where
   * the sender takes items off the queue). Until acknowledged it stays in the outputs' in-flight window,
   * itself bounded (maxInflightBatches × maxBatchBytes per output), and is written again if the write fails.
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

  async flush(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  /**
   * Waits until everything submitted is acknowledged (true), or gives up (false) after `timeoutMs`, or
   * sooner once an output has been failing for `downAfterMs`: then waiting longer is pointless and stop()
   * hands the rest to the emergency persistence.
   */
  async drain(timeoutMs = 30_000, downAfterMs = 3_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.inflight.size === 0) return true;
      if (Date.now() > deadline) return false;
      if (this.lanes.some((l) => l.failingForMs() > downAfterMs)) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  ready(): boolean {
    return this.outputs.every((o) => o.ready());
  }

  /**
   * Stops writing. Writes in flight get a moment to be acknowledged; what is left unacknowledged is written
   * to the emergency persistence (then acknowledged, so the pullers may commit) or, without one (or when
   * the disk refuses), stays unacknowledged and is pulled again.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    this.monitor?.stop();
    for (const w of this.waiters.splice(0)) w();
    const grace = this.options.stopGraceMs ?? 5_000;
    await Promise.all(this.lanes.map((l) => l.halt(grace)));
    await Promise.all(this.outputs.map((o) => o.stop().catch(() => undefined)));
    await Promise.all(this.lanes.map((l) => l.waitIdle(Math.min(2_000, grace))));
    for (const lane of this.lanes) {
      const left = lane.takeQueued();
      if (left.length === 0) continue;
      const records = left.flatMap((c) => c.records.map((record) => ({ service: c.service, record })));
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

/** Approximate size of a chunk (characters), cached on the chunk. */
function chunkSize(c: Chunk): number {
  if (c.size === undefined) {
    let n = 0;
    for (const r of c.records) n += r.message.length + r.tag.length + 40;
    c.size = n;
  }
  return c.size;
}

/** The queue of one output: batches are written in order, several in flight, acknowledged as they settle. */
export class Lane {
  private readonly queue: Chunk[] = [];
  private seq = 0;
  private readonly inflightWrites = new Set<{ taken: Chunk[]; abandoned: boolean }>();
  private inflight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private failures = 0;
  private failingSince = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private halted = false;
  private started = false;
  private readonly services: readonly SenderService[];
  /** Acknowledged messages per service (the monitoring lines). */
  readonly sent: Record<SenderService, number> = { standard: 0, internal: 0, lookup: 0 };
  readonly sentBytes: Record<SenderService, number> = { standard: 0, internal: 0, lookup: 0 };
  readonly busyMs: Record<SenderService, number> = { standard: 0, internal: 0, lookup: 0 };

  constructor(
    readonly output: Output,
    private readonly options: DeliveryPipelineOptions,
    private readonly log: Logger,
  ) {
    this.services = output.services ?? DEFAULT_SERVICES;
  }

  accepts(service: SenderService): boolean {
    return this.services.includes(service);
  }

  queued(service?: SenderService): number {
    let n = 0;
    for (const c of this.queue) if (!service || c.service === service) n += c.records.length;
    return n;
  }

  pending(): { messages: number; bytes: number } {
    let messages = 0;
    let bytes = 0;
    for (const c of this.queue) {
      messages += c.records.length;
      for (const r of c.records) bytes += r.message.length + r.tag.length + 40;
    }
    return { messages, bytes };
  }

  /**
   * Puts failed chunks back at the front in their original order: the writes in flight fail one after
   * the other, so plain unshifts would reverse them.
   */
  private requeue(taken: Chunk[]): void {
    let i = 0;
    // Failed chunks of earlier writes were requeued first and sit at the front; merge by sequence.
    while (i < this.queue.length && (this.queue[i]!.seq ?? 0) < (taken[0]!.seq ?? 0)) i++;
    this.queue.splice(i, 0, ...taken);
  }

  push(chunks: Chunk[]): void {
    for (const c of chunks) {
      c.seq = this.seq++;
      this.queue.push(c);
    }
    if (this.started) this.pump();
  }

  unshift(chunks: Chunk[]): void {
    // Recovered records go first: negative sequence numbers, in file order.
    const first = (this.queue[0]?.seq ?? 0) - chunks.length;
    chunks.forEach((c, i) => (c.seq = first + i));
    this.queue.unshift(...chunks);
  }

  failingForMs(): number {
    return this.failures > 0 ? Date.now() - this.failingSince : 0;
  }

  pump(): void {
    this.started = true;
    const maxInflight = this.failures > 0 ? 1 : (this.options.maxInflightBatches ?? 16);
    const batchSize = this.options.batchSize ?? 1000;
    const maxBytes = this.options.maxBatchBytes ?? 2 * 1024 * 1024;
    while (!this.halted && !this.retryTimer && this.inflight < maxInflight && this.queue.length > 0) {
      // Group chunks of the same sender service up to the batch size: one write, one Buffer.
      const service = this.queue[0]!.service;
      const taken: Chunk[] = [];
      let count = 0;
      let size = 0;
      while (
        this.queue.length > 0 &&
        this.queue[0]!.service === service &&
        (count === 0 || (count + this.queue[0]!.records.length <= batchSize && size + chunkSize(this.queue[0]!) <= maxBytes))
      ) {
        const c = this.queue.shift()!;
        size += chunkSize(c);
        if (!c.written) {
          c.written = true;
          c.onWrite();
        }
        taken.push(c);
        count += c.records.length;
      }
      const records = taken.length === 1 ? taken[0]!.records : taken.flatMap((t) => t.records);
      this.inflight++;
      const write = { taken, abandoned: false };
      this.inflightWrites.add(write);
      const began = Date.now();
      this.output.write(records, service).then(
        () => {
          this.inflightWrites.delete(write);
          if (write.abandoned) return; // stop() already persisted or rejected these
          this.inflight--;
          this.failures = 0;
          this.sent[service] += records.length;
          this.busyMs[service] += Date.now() - began;
          for (const t of taken) t.done();
          this.afterWrite();
        },
        (error: unknown) => {
          this.inflightWrites.delete(write);
          if (write.abandoned) return;
          this.inflight--;
          this.requeue(taken);
          if (this.failures === 0) this.failingSince = Date.now();
          const wait = Math.min(this.options.retryMaxMs ?? 60_000, (this.options.retryInitialMs ?? 100) * 2 ** Math.min(this.failures, 16));
          this.failures++;
          if (!this.halted) {
            const message = error instanceof Error && 'toLine' in error ? (error as { toLine(): string }).toLine() : (error as Error).message;
            this.log.warning(`Output ${this.output.name} failed to deliver ${records.length} message(s): ${message}; retrying`);
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
   * Removes and returns every chunk not yet acknowledged (after halt), including those of writes that
   * still hang: those writes are abandoned, so a late outcome can no longer settle them twice.
   */
  takeQueued(): Chunk[] {
    const hanging: Chunk[] = [];
    for (const write of this.inflightWrites) {
      write.abandoned = true;
      hanging.push(...write.taken);
    }
    this.inflightWrites.clear();
    this.inflight = 0;
    return [...hanging, ...this.queue.splice(0)].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  }
}
