import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { describeError, EncodedBatch, type Logger } from '@collector/sdk';
import { awsErrorName, awsErrorText } from './client.js';
import type { SqsServiceOptions } from './config.js';
import { awsSqsErrors as errors } from './errors.js';
import type { OutEvent } from './formats/decoders.js';
import { directEvent, parseNotification, type ObjectRef } from './notifications.js';
import { readObject } from './object-reader.js';
import type { ObjectPlan, ServicePipeline } from './pipeline.js';
import type { ProcessingPool } from './processing-pool.js';
import { UnackedBudget } from './unacked-budget.js';

/** The table `debug_md5` writes to. */
export const MD5_TAG = 'my.app.sqs.message_body';

export interface QueueWorkerDeps {
  sqs: SQSClient;
  s3: S3Client;
  options: SqsServiceOptions;
  /** The service's declaration compiled with the operator's overrides: which objects, how, to which tag. */
  pipeline: ServicePipeline;
  log: Logger;
  signal: AbortSignal;
  /** The SDK's `ctx.emit`: resolves once queued; `delivered` settles when every output acknowledged. */
  emit(events: readonly unknown[] | EncodedBatch, tag?: string): Promise<{ delivered: Promise<void> }>;
  /** `"@devo_pulling_id":"..."` for the events of this cycle. */
  suffix: string;
  /** Config path of the service, for error lines. */
  path: string;
  /** Processing threads that decode objects (`processing_threads` > 0); without, this thread decodes. */
  pool?: ProcessingPool | undefined;
  /** `/metrics` gauges (the SDK's `ctx.metrics`, one per service of one runtime). */
  metrics?: { gauge(name: string, value: number): void; count(name: string, delta: number): void };
}


export interface CycleResult {
  received: number;
  deleted: number;
  objects: number;
  skippedObjects: number;
  /** Records dropped by `line_filter_rules` (sent to the unknown tag with `send_filtered_out_to_unknown`). */
  filteredRecords: number;
  events: number;
  bytes: number;
  failed: number;
  released: number;
  poison: number;
  testEvents: number;
}

const QUEUE_MISSING = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'KMS.AccessDeniedException']);
const HANDLE_GONE = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidParameterValue', 'AWS.SimpleQueueService.MessageNotInflight']);
const MAX_VISIBILITY_TOTAL = 43_200;
/**
 * Characters of events (bytes, for a processing thread's batches) handed to the SDK and not yet acknowledged,
 * per worker (every message in flight): at 150k CloudTrail events/s (~225 MB/s) and an acknowledgement after
 * ~20–40 ms, 4–9 MB are in flight.
 */
const MAX_UNACKED_CHARS = 16 * 1024 * 1024;
/** Objects of one message read at the same time (notifications usually carry one). */
const OBJECTS_IN_FLIGHT_PER_MESSAGE = 4;

/** Maps an SQS failure to PullError 300 (no queue), 301 (denied) or 302 (anything else). */
export function queueError(error: unknown, operation: string, queueUrl: string, path: string): Error {
  const name = awsErrorName(error);
  if (QUEUE_MISSING.has(name)) return errors.noQueue({ url: queueUrl, path: `${path}.base_url` });
  if (DENIED.has(name)) return errors.queueDenied({ url: queueUrl, error: awsErrorText(error), path: `${path}.base_url` });
  return errors.sqsFailed({ operation, error: awsErrorText(error), path: `${path}.base_url` });
}

/** Collects receipt handles and deletes them with DeleteMessageBatch (≤ 10 a call). */
class BatchDeleter {
  private pending: { id: string; handle: string; resolve: (ok: boolean) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly log: Logger,
  ) {}

  delete(handle: string): Promise<boolean> {
    return new Promise((resolve) => {
      this.pending.push({ id: String(this.seq++), handle, resolve });
      if (this.pending.length >= 10) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), 50);
    });
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, 10);
      try {
        const result = await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((b) => ({ Id: b.id, ReceiptHandle: b.handle })) }));
        const failed = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
        for (const b of batch) {
          const failure = failed.get(b.id);
          if (failure) this.log.warning(`Could not delete a message (${failure.Code}: ${failure.Message ?? ''}); it will be received again`);
          else this.log.debug(`Acked message receiptHandle: ${b.handle}`);
          b.resolve(!failure);
        }
      } catch (error) {
        this.log.error(`DeleteMessageBatch failed: ${awsErrorText(error)}; ${batch.length} message(s) will be received again`);
        for (const b of batch) b.resolve(false);
      }
    }
  }
}

/**
 * One pull cycle on one queue: receive (long polling) while messages come, with up to
 * `max_messages_in_flight` messages processed at once; each message's objects are streamed to the outputs
 * and the message is deleted only after every one of its events was acknowledged (`ack_messages`).
 */
export class QueueWorker {
  private readonly deleter: BatchDeleter;
  private readonly stopped: Promise<'stopped'>;
  private readonly unacked: UnackedBudget;
  private readonly result: CycleResult = { received: 0, deleted: 0, objects: 0, skippedObjects: 0, filteredRecords: 0, events: 0, bytes: 0, failed: 0, released: 0, poison: 0, testEvents: 0 };
  private reported: CycleResult = { ...this.result };

  constructor(private readonly deps: QueueWorkerDeps) {
    // Every request in flight (receives, object downloads) listens on the stop signal.
    setMaxListeners(0, deps.signal);
    this.deleter = new BatchDeleter(deps.sqs, deps.options.queueUrl, deps.log);
    this.stopped = new Promise((resolve) => {
      if (deps.signal.aborted) resolve('stopped');
      else deps.signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
    this.unacked = new UnackedBudget(MAX_UNACKED_CHARS, this.stopped);
  }

  async runCycle(): Promise<CycleResult> {
    const { options, signal } = this.deps;
    const inflight = new Set<Promise<void>>();
    try {
      while (!signal.aborted) {
        while (inflight.size >= options.maxMessagesInFlight) await Promise.race(inflight);
        if (signal.aborted) break;
        const messages = await this.receive(Math.min(options.maxMessages, options.maxMessagesInFlight - inflight.size));
        if (messages.length === 0) {
          this.deps.metrics?.gauge('sqs_message_age_seconds', 0);
          break; // the queue is drained (the long poll found nothing)
        }
        this.result.received += messages.length;
        this.reportAge(messages);
        for (const message of messages) {
          const task: Promise<void> = this.handle(message).finally(() => {
            inflight.delete(task);
            this.deps.metrics?.gauge('sqs_messages_in_flight', inflight.size);
            this.reportTotals();
          });
          inflight.add(task);
        }
        this.deps.metrics?.gauge('sqs_messages_in_flight', inflight.size);
      }
    } finally {
      await Promise.all(inflight);
      await this.deleter.flush();
    }
    return this.result;
  }

  /** The lag: how long ago SQS accepted the oldest message of this receive (`SentTimestamp`). */
  private reportAge(messages: Message[]): void {
    let oldest = Infinity;
    for (const m of messages) {
      const sent = Number(m.Attributes?.['SentTimestamp']);
      if (Number.isFinite(sent)) oldest = Math.min(oldest, sent);
    }
    if (Number.isFinite(oldest)) this.deps.metrics?.gauge('sqs_message_age_seconds', Math.max(0, (Date.now() - oldest) / 1000));
  }

  /** Adds what this cycle did since the last report to the service's counters (the runtime keeps the totals). */
  private reportTotals(): void {
    const metrics = this.deps.metrics;
    if (!metrics) return;
    const r = this.result;
    const previous = this.reported;
    metrics.count('sqs_messages_deleted', r.deleted - previous.deleted);
    metrics.count('sqs_messages_released', r.released - previous.released);
    metrics.count('sqs_messages_failed', r.failed - previous.failed);
    metrics.count('sqs_messages_poison', r.poison - previous.poison);
    metrics.count('sqs_objects_read', r.objects - previous.objects);
    metrics.count('sqs_object_bytes_read', r.bytes - previous.bytes);
    this.reported = { ...r };
  }

  private async receive(count: number): Promise<Message[]> {
    const { options, signal, path } = this.deps;
    try {
      // Not aborted on stop: SQS may already have handed out messages for a long poll cut short, and they would
      // stay invisible for their whole visibility timeout. The poll ends within sqs_wait_timeout (<= 20 s);
      // whatever it returns after a stop is released at once.
      const result = await this.deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: count,
          WaitTimeSeconds: options.waitTimeSeconds,
          VisibilityTimeout: options.visibilityTimeout,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      const messages = result.Messages ?? [];
      if (signal.aborted && messages.length > 0) {
        await Promise.all(messages.map((m) => this.release(m.MessageId ?? '?', m.ReceiptHandle ?? '')));
        return [];
      }
      return messages;
    } catch (error) {
      if (signal.aborted) return [];
      throw queueError(error, 'ReceiveMessage', options.queueUrl, path);
    }
  }

  /** Processes one message; never throws (a failure leaves the message to reappear after its visibility timeout). */
  private async handle(message: Message): Promise<void> {
    const { options, log } = this.deps;
    const id = message.MessageId ?? '?';
    const handle = message.ReceiptHandle ?? '';
    const body = message.Body ?? '';
    const receiveCount = Number(message.Attributes?.['ApproximateReceiveCount'] ?? '1');
    if (receiveCount > options.maxReceiveCount) {
      this.result.poison++;
      const action = options.deletePoisonMessages ? 'deleted (delete_poison_messages)' : "left to the queue's dead-letter policy";
      log.error(errors.poison({ messageId: id, count: receiveCount, max: options.maxReceiveCount, action }).toLine());
      if (options.deletePoisonMessages) await this.complete(handle);
      return;
    }
    const heartbeat = this.heartbeat(id, handle);
    const delivered: Promise<void>[] = [];
    const emit = async (events: readonly unknown[] | EncodedBatch, tag: string) => {
      if (events.length === 0) return;
      if (options.doNotSend) return;
      await this.unacked.reserve();
      if (this.deps.signal.aborted) throw new Error('stopped');
      const accepted = await this.deps.emit(events, tag);
      delivered.push(accepted.delivered);
      const pool = this.deps.pool;
      if (pool && events instanceof EncodedBatch) {
        // Once delivered (or failed), nothing reads the bytes any more: the thread may fill them again.
        const recycle = () => pool.recycle(events);
        accepted.delivered.then(recycle, recycle);
      }
      this.unacked.hold(events, accepted.delivered);
    };
    try {
      if (options.debugMd5) {
        await emit([{ md5: createHash('md5').update(body).digest('hex'), message_id: id, receive_count: receiveCount }], MD5_TAG);
      }
      if (options.directMode) {
        await emit([directEvent(body)], this.deps.pipeline.main.template.render({}));
        this.result.events++;
      } else if (!(await this.processNotification(id, body, emit))) {
        return; // not understood: left for the dead-letter queue
      }
      const outcome = await this.settled(delivered);
      if (outcome === 'delivered') {
        if (options.ackMessages) await this.complete(handle);
        return;
      }
      if (outcome === 'failed') log.warning(`Message ${id}: the outputs did not acknowledge its events; it will be received again`);
      await this.release(id, handle);
    } catch (error) {
      if (this.deps.signal.aborted) {
        await this.release(id, handle);
        return;
      }
      this.result.failed++;
      log.error(`${describeError(error)}; message ${id} will be received again after its visibility timeout`);
    } finally {
      heartbeat.stop();
    }
  }

  /** Returns false when the body is not a notification this collector understands (message kept). */
  private async processNotification(id: string, body: string, emit: (events: readonly unknown[] | EncodedBatch, tag: string) => Promise<void>): Promise<boolean> {
    const { log } = this.deps;
    const notification = parseNotification(body);
    if (notification.kind === 'test') {
      this.result.testEvents++;
      log.info(`Message ${id} is an s3:TestEvent: ${this.deps.options.ackMessages ? 'deleted without processing' : 'nothing to collect (kept: ack_messages is false)'}`);
      return true;
    }
    if (notification.kind === 'invalid') {
      this.result.failed++;
      log.error(`${errors.notANotification({ messageId: id, error: notification.reason }).toLine()}; left to the queue's dead-letter policy`);
      return false;
    }
    // Objects of one message are read side by side (a few at a time), each streamed on its own.
    const refs: { ref: ObjectRef; plan: ObjectPlan }[] = [];
    for (const ref of notification.objects) {
      const plan = this.deps.pipeline.plan(ref.key);
      if (plan.filtered && !plan.pipeline.toUnknown) {
        // Counted in the cycle's summary line (skipped objects).
        this.result.skippedObjects++;
        log.debug(`Skipping s3://${ref.bucket}/${ref.key}: filename_filter_rules of pipeline ${plan.pipeline.name}`);
        continue;
      }
      refs.push({ ref, plan });
    }
    let next = 0;
    let failed = false;
    const lane = async () => {
      // After a failure the other lanes finish the object in hand and stop: the message is retried whole.
      while (next < refs.length && !failed) {
        if (this.deps.signal.aborted) throw new Error('stopped');
        try {
          const { ref, plan } = refs[next++]!;
          await this.readOne(ref, plan, emit);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: Math.min(OBJECTS_IN_FLIGHT_PER_MESSAGE, refs.length) }, lane));
    const rejected = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (rejected) throw rejected.reason;
    return true;
  }

  private async readOne(ref: ObjectRef, plan: ObjectPlan, emit: (events: readonly unknown[] | EncodedBatch, tag: string) => Promise<void>): Promise<void> {
    const { options, suffix, log } = this.deps;
    const started = Date.now();
    const counters = { filtered: 0 };
    const read = await readObject(this.deps.s3, ref, {
      plan,
      source: this.deps.pipeline.source,
      pool: this.deps.pool,
      forceGunzip: options.compressedEvents || plan.pipeline.forceGunzip,
      suffix,
      batchSize: options.eventsPerBatch,
      emit: (events: OutEvent[] | EncodedBatch, tag: string) => emit(events, tag),
      signal: this.deps.signal,
      counters,
    }).finally(() => (this.result.filteredRecords += counters.filtered));
    if (read.missing) {
      log.warning(`s3://${ref.bucket}/${ref.key} no longer exists: nothing to send`);
      return;
    }
    this.result.objects++;
    this.result.events += read.events;
    this.result.bytes += read.bytes;
    log.debug(`Read s3://${ref.bucket}/${ref.key}: ${read.events} event(s), ${read.bytes} byte(s)${read.compressed ? ' (gzip)' : ''} in ${Date.now() - started} ms (${plan.pipeline.name}: ${plan.pipeline.processorName})`);
  }

  /**
   * Waits for every output to acknowledge the message's events. When the collector is stopping, waits at
   * most `stop_grace_seconds` more, so that a dead output cannot hold the stop forever.
   */
  private async settled(delivered: Promise<void>[]): Promise<'delivered' | 'failed' | 'stopped'> {
    const all = Promise.all(delivered).then(
      () => 'delivered' as const,
      () => 'failed' as const,
    );
    if (!this.deps.signal.aborted) {
      const first = await Promise.race([all, this.stopped]);
      if (first !== 'stopped') return first;
    }
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'stopped'>((resolve) => (timer = setTimeout(() => resolve('stopped'), this.deps.options.stopGraceMs)));
    try {
      return await Promise.race([all, grace]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async complete(handle: string): Promise<void> {
    if (await this.deleter.delete(handle)) this.result.deleted++;
  }

  /** Makes a message visible again at once, so that another replica (or the next run) takes it over. */
  private async release(id: string, handle: string): Promise<void> {
    this.result.released++;
    try {
      await this.deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.deps.options.queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }));
      this.deps.log.info(`Message ${id} released to the queue (not all of its events were acknowledged)`);
    } catch (error) {
      this.deps.log.warning(`Message ${id} could not be released (${awsErrorText(error)}); it reappears after its visibility timeout`);
    }
  }

  /** Extends the message's visibility every half timeout while it is being processed. */
  private heartbeat(id: string, handle: string): { stop(): void } {
    const { options, log, sqs } = this.deps;
    const receivedAt = Date.now();
    let stopped = false;
    const timer = setInterval(() => {
      const elapsed = Math.ceil((Date.now() - receivedAt) / 1000);
      const extension = Math.min(options.visibilityTimeout, MAX_VISIBILITY_TOTAL - elapsed - 1);
      if (extension <= 0) {
        log.warning(`Message ${id} reached the 12-hour visibility limit; it may be received by another consumer`);
        clearInterval(timer);
        return;
      }
      sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: options.queueUrl, ReceiptHandle: handle, VisibilityTimeout: extension })).then(
        () => log.debug(`Message ${id}: visibility extended by ${extension} s`),
        (error: unknown) => {
          if (stopped) return;
          if (HANDLE_GONE.has(awsErrorName(error))) {
            clearInterval(timer);
            log.warning(`Message ${id}: the visibility could not be extended (${awsErrorName(error)}); another consumer may receive it`);
          } else {
            log.warning(`Message ${id}: ChangeMessageVisibility failed (${awsErrorText(error)}); retrying at the next beat`);
          }
        },
      );
    }, (options.visibilityTimeout * 1000) / 2);
    timer.unref();
    return {
      stop() {
        stopped = true;
        clearInterval(timer);
      },
    };
  }
}
