import type { DeliveryRecord } from './delivery-record.js';
import type { Batch, EncodedBatch, Submission } from './encoded-batch.js';

export type { DeliveryRecord, EncodedBatch };

/**
 * Batches being written (handed to an output, not yet flushed) per connection of an output: the pipeline's
 * default window (DeliveryPipelineOptions.maxInflightBatches), and what a stream output lets one connection
 * take while it opens another.
 */
export const WRITES_PER_CONNECTION = 16;

/** The three DCSDK sender services: pulled events, the collector's own logs and metrics, and lookups. */
export type SenderService = 'standard' | 'internal' | 'lookup';

/**
 * A destination (`outputs.<name>` in config.yaml). `write` resolves only once the records were flushed to a
 * connection that is still healthy; a rejection means none of them may be counted as delivered, and the
 * delivery layer writes them again (at-least-once).
 */
export interface Output {
  readonly name: string;
  readonly type: string;
  /**
   * The sender services this output takes; `['standard', 'lookup']` when absent (so a custom output sees
   * events only, not the collector's own log lines).
   */
  readonly services?: readonly SenderService[];
  start(): Promise<void>;
  /**
   * `flushed` (optional): called once the bytes left the process and only the acknowledgement is awaited
   * (e.g. a settle period); the pipeline then writes further batches without waiting for it.
   */
  write(records: readonly DeliveryRecord[], service: SenderService, flushed?: () => void): Promise<void>;
  /**
   * Optional: `write` of several batches as one, some of them events as bytes (EncodedBatch), framed without
   * decoding them. Without it, the delivery decodes them and calls `write` with the records.
   */
  writeBatches?(batches: readonly Batch[], service: SenderService, flushed?: () => void): Promise<void>;
  /**
   * Optional: does the work of a later `write` of this very array (or `writeBatches` of this very
   * EncodedBatch alone) that does not depend on the connection (the framing, e.g. syslog encoding) now,
   * while the caller waits for the moment to submit it. An EncodedBatch is prepared only by an output that
   * has `writeBatches`.
   */
  prepare?(batch: Batch, service: SenderService): void;
  /**
   * Optional: the connections the output writes on side by side (`concurrent_connections`). The pipeline
   * keeps its window of batches being written per connection, so one connection whose receiver stalls cannot
   * take every place and starve the others. 1 when absent.
   */
  readonly connections?: number;
  /** Connected (or able to accept writes right now); `/ready` reports it. */
  ready(): boolean;
  /**
   * `--check`: one connection attempt with the write options. Resolves with what was verified (e.g.
   * `TLSv1.3 handshake with the client certificate (12 ms)`); rejects with an OutputError naming the cause.
   */
  probe?(): Promise<string | void>;
  stop(): Promise<void>;
}

/** What pullers hand events to. */
export interface Delivery {
  /**
   * Queues records for every output. Resolves when the queue accepted them (it waits while the queue is
   * full: back-pressure, never a drop); `delivered` settles once every output acknowledged all of them.
   * An EncodedBatch (events as UTF-8 bytes), or several (events of several tags), is queued without a
   * string per event.
   */
  submit(records: Submission, service?: SenderService): Promise<{ delivered: Promise<void> }>;
  /**
   * Optional: frames `records` for the outputs now, so that a later `submit` of this very object writes at
   * once (a caller that keeps one batch unacknowledged prepares the next one while the previous settles).
   * Never throws: whatever is wrong with the records, `submit` says.
   */
  prepare?(records: Submission, service?: SenderService): void;
  /** Resolves when everything submitted so far is acknowledged. */
  flush(): Promise<void>;
  ready(): boolean;
  stop(): Promise<void>;
}
