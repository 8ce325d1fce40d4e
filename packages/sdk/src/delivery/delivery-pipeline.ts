import { sleep } from '../runtime/abortable-sleep.js';
import type { Logger } from '../telemetry/logger.js';
import type { Delivery, DeliveryRecord, Output, SenderService } from './types.js';

export interface DeliveryPipelineOptions {
  /** DCSDK `queue_max_size_in_messages` (10000). */
  maxMessages?: number;
  /** DCSDK `queue_max_size_in_mb` (1024), in bytes. */
  maxBytes?: number;
  /** Records per write call. */
  batchSize?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  log?: Logger;
}

interface Pending {
  records: readonly DeliveryRecord[];
  service: SenderService;
  bytes: number;
  remaining: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Fans records out to every output through one bounded queue per output. A record counts as delivered when
 * every output acknowledged it; a failed write is retried with capped back-off until it succeeds or the
 * pipeline stops (then the record stays unacknowledged, so nothing after it is committed).
 */
export class DeliveryPipeline implements Delivery {
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private queuedMessages = 0;
  private queuedBytes = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly lanes: Lane[];
  private stopped = false;
  private readonly stopController = new AbortController();
  private inflight = new Set<Promise<void>>();

  constructor(
    readonly outputs: readonly Output[],
    private readonly options: DeliveryPipelineOptions = {},
  ) {
    this.maxMessages = options.maxMessages ?? 10_000;
    this.maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
    this.lanes = outputs.map((o) => new Lane(o, options, this.stopController.signal));
  }

  async start(): Promise<void> {
    await Promise.all(this.outputs.map((o) => o.start()));
  }

  async submit(records: readonly DeliveryRecord[], service: SenderService = 'standard'): Promise<{ delivered: Promise<void> }> {
    if (records.length === 0) return { delivered: Promise.resolve() };
    let bytes = 0;
    for (const r of records) bytes += r.message.length + r.tag.length + 32;
    // Back-pressure: a batch larger than the whole queue is still admitted once the queue is empty.
    while (!this.stopped && this.queuedMessages > 0 && (this.queuedMessages + records.length > this.maxMessages || this.queuedBytes + bytes > this.maxBytes)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.stopped) return { delivered: Promise.reject(new Error('delivery stopped')) };
    this.queuedMessages += records.length;
    this.queuedBytes += bytes;
    const delivered = new Promise<void>((resolve, reject) => {
      const pending: Pending = { records, service, bytes, remaining: this.lanes.length, resolve, reject };
      if (this.lanes.length === 0) return resolve();
      for (const lane of this.lanes) lane.push(pending, () => this.settle(pending));
    });
    delivered.catch(() => undefined);
    const tracked = delivered.finally(() => this.inflight.delete(tracked));
    tracked.catch(() => undefined);
    this.inflight.add(tracked);
    return { delivered };
  }

  private settle(pending: Pending): void {
    pending.remaining--;
    if (pending.remaining > 0) return;
    this.queuedMessages -= pending.records.length;
    this.queuedBytes -= pending.bytes;
    pending.resolve();
    const waiting = this.waiters.splice(0);
    for (const w of waiting) w();
  }

  get queueSize(): { messages: number; bytes: number } {
    return { messages: this.queuedMessages, bytes: this.queuedBytes };
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  ready(): boolean {
    return this.outputs.every((o) => o.ready());
  }

  /** Stops writing: unacknowledged records stay unacknowledged (their checkpoints are never committed). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    for (const w of this.waiters.splice(0)) w();
    await Promise.all(this.outputs.map((o) => o.stop().catch(() => undefined)));
  }
}

/** The queue of one output, written in order by one loop. */
class Lane {
  private readonly queue: { pending: Pending; done: () => void }[] = [];
  private running = false;

  constructor(
    private readonly output: Output,
    private readonly options: DeliveryPipelineOptions,
    private readonly signal: AbortSignal,
  ) {}

  push(pending: Pending, done: () => void): void {
    this.queue.push({ pending, done });
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    const batchSize = this.options.batchSize ?? 500;
    let failures = 0;
    while (this.queue.length > 0 && !this.signal.aborted) {
      // Group whole submissions of the same sender service up to the batch size.
      const taken: { pending: Pending; done: () => void }[] = [];
      let count = 0;
      const service = this.queue[0]!.pending.service;
      while (this.queue.length > 0 && this.queue[0]!.pending.service === service && (count === 0 || count + this.queue[0]!.pending.records.length <= batchSize)) {
        const item = this.queue.shift()!;
        taken.push(item);
        count += item.pending.records.length;
      }
      const records = taken.length === 1 ? taken[0]!.pending.records : taken.flatMap((t) => t.pending.records);
      try {
        await this.output.write(records, service);
        failures = 0;
        for (const t of taken) t.done();
      } catch (error) {
        this.queue.unshift(...taken);
        const wait = Math.min(this.options.retryMaxMs ?? 60_000, (this.options.retryInitialMs ?? 1000) * 2 ** failures++);
        this.options.log?.warning(`Output ${this.output.name} failed to deliver ${records.length} event(s): ${(error as Error).message}; retrying in ${wait} ms`);
        await sleep(wait, this.signal);
      }
    }
    this.running = false;
  }
}
