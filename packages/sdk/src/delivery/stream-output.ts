import { gzipSync } from 'node:zlib';
import { OutputError } from '../errors/collector-error.js';
import { sleep } from '../runtime/abortable-sleep.js';
import { backoffDelay } from '../runtime/backoff.js';
import { silentLogger, type Logger } from '../telemetry/logger.js';
import { EncodedBatch, recordsOf, type Batch } from './encoded-batch.js';
import { isRefusal } from './refusal.js';
import { StreamConnection, type ConnectionTarget } from './stream-connection.js';
import { SyslogEncoder } from './syslog-encoder.js';
import { freeArrayBuffer, takeSpare } from '../runtime/free-buffer.js';
import { WRITES_PER_CONNECTION, type DeliveryRecord, type Output, type SenderService } from './types.js';

export interface StreamOutputOptions {
  target: ConnectionTarget;
  /** Hostname in the syslog header. */
  hostname: string;
  /**
   * Connections kept open at most (`concurrent_connections`, default 1). Extra ones open on demand, when a
   * write finds every open connection busy; `lookup` batches always use the oldest one (see write()).
   */
  concurrentConnections?: number;
  /** Back-off between failed connection attempts: initial, doubling, capped, jittered (DCSDK connecting_*_wait). */
  initialWaitMs?: number;
  maxWaitMs?: number;
  /** Consecutive failures after which an OutputError 610 is logged (DCSDK `connecting_retries`, 5). */
  connectingRetries?: number;
  /** Reconnect when idle longer than this (Devo's balancer drops idle connections after 30 s). */
  idleTimeoutMs?: number;
  /** Reconnect when the connection is older than this (1 h, Devo's balancer). */
  maxConnectionAgeMs?: number;
  /** gzip transport as Devo's Python SDK: whole events in gzip members written to the stream. */
  gzipLevel?: number;
  /** Raw bytes per gzip member, about (DCSDK `devo_sender_compression_buffer_in_bytes`, 51200). */
  gzipBufferBytes?: number;
  log?: Logger;
}

/** Framing buffers kept for reuse (see StreamOutput.spare), and the granularity of their sizes. */
const SPARES_KEPT = 4;
/**
 * prepare() frames a batch of bytes ahead only while fewer framing buffers than this are out (handed out and
 * not flushed yet); past that, the batch is framed when it is written. A runner prepares its next submission
 * while the last one is written: with submissions of two pieces (Proofpoint's 2000 events of 1.5 KB, 3 MB,
 * written 2 MiB at a time) four buffers were out at once, and kept as spares for the whole pull.
 */
const FRAMED_AHEAD_BUFFERS = 2;
const SPARE_SLACK = 64 * 1024;
/**
 * Spare buffers none was taken from for this long are let go: a daemon waiting for its next pull keeps no
 * framing buffers (up to 4 × 2 MiB), and they are gone before its idle collection (runtime/idle-memory.ts).
 */
const SPARE_IDLE_MS = 250;

/** Totals for the monitoring lines. */
export interface OutputCounters {
  messages: number;
  bytes: number;
  failedWrites: number;
}

/**
 * A syslog-over-TCP/TLS output (`devo_platform`/`relay`, `syslog`/`in_house_relay`/`sidecar`): encodes each
 * batch into one Buffer and writes it on one of up to `concurrentConnections` connections. A write
 * resolves only when the connection acknowledged it (see StreamConnection); otherwise it rejects and the
 * pipeline writes the batch again.
 */
export class StreamOutput implements Output {
  readonly services = ['standard', 'internal', 'lookup'] as const;
  /** See Output.connections: the pipeline's write window scales with them. */
  readonly connections: number;
  private readonly encoder: SyslogEncoder;
  private readonly pool: StreamConnection[] = [];
  private connecting: Promise<StreamConnection> | undefined;
  private failures = 0;
  /** A refusal (see isRefusal) was among the failures since the last success. */
  private refusedInStreak = false;
  private nextAttemptAt = 0;
  private down = true;
  /** The connection being opened (stop() aborts it). */
  private opening: StreamConnection | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly stopController = new AbortController();
  /** Connections whose failure was counted already: the writes in flight on one fail together, for one cause. */
  private readonly failureNoted = new WeakSet<StreamConnection>();
  private readonly log: Logger;
  readonly counters: OutputCounters = { messages: 0, bytes: 0, failedWrites: 0 };
  private readonly where: string;
  /**
   * Buffers that held framed batches of events as bytes, acknowledged since, for the next ones: with
   * CloudTrail's 1.5 KB events, a new buffer per batch was 300 MB of allocations a run that V8 counted as
   * external memory (full collections) and malloc served as fresh mappings (page faults).
   */
  private readonly spare: ArrayBuffer[] = [];
  /**
   * Buffers spareBuffer() handed out, until flushed (only those go back to `spare`) or dropped by a failed
   * write; while FRAMED_AHEAD_BUFFERS of them are out, prepare() frames nothing ahead. Weakly: a batch framed
   * ahead whose write never comes (the pipeline stopped) stops counting once collected.
   */
  private readonly out = new Set<WeakRef<ArrayBuffer>>();
  private readonly outRef = new WeakMap<ArrayBuffer, WeakRef<ArrayBuffer>>();
  /** When spareBuffer() was last called, and the timer that drops the spares once that is long ago. */
  private spareUsedAt = 0;
  private spareTimer: NodeJS.Timeout | undefined;
  /** Batches framed ahead by prepare(), until their write takes them. */
  private readonly framed = new WeakMap<Batch, Buffer>();

  constructor(
    readonly name: string,
    readonly type: string,
    private readonly options: StreamOutputOptions,
  ) {
    this.connections = Math.max(1, options.concurrentConnections ?? 1);
    this.encoder = new SyslogEncoder(options.hostname);
    this.log = options.log ?? silentLogger;
    this.where = `${name} (${options.target.tls ? 'tls' : 'tcp'}://${options.target.host}:${options.target.port})`;
  }

  /**
   * Opens the first connection. A failure is logged, not thrown (the pipeline keeps retrying), and a
   * receiver that does not answer delays the collector's start by 5 s at most.
   */
  async start(): Promise<void> {
    const attempt = (async () => {
      const connection = await this.acquire();
      connection.release();
      await connection.whenVerified();
    })().catch((error: unknown) => {
      this.log.warning(`Output ${this.name} is not reachable yet: ${error instanceof OutputError ? error.toLine() : (error as Error).message}`);
    });
    await Promise.race([attempt, sleep(5_000, this.stopController.signal)]);
  }

  /**
   * False from start until a connection was accepted, and again from a failure (connection refused,
   * rejected certificate, a close with writes in flight, a close of an idle connection that a reconnect
   * attempt cannot replace) until a connection is accepted again. While down, the output keeps trying in
   * the background with the connection back-off, so `/ready` recovers without new events.
   */
  ready(): boolean {
    return !this.down;
  }

  /**
   * `--check`: one connection with exactly the options of write() (TLS handshake, client certificate),
   * waits until the server accepted us, closes it. Rejects with the OutputError of the cause.
   */
  async probe(): Promise<string> {
    const connection = new StreamConnection(this.options.target, this.where);
    const started = performance.now();
    try {
      await connection.connect();
      await connection.whenVerified();
      const ms = Math.round(performance.now() - started);
      if (!connection.protocol) return `TCP connection (${ms} ms)`;
      return `${connection.protocol} handshake${this.options.target.tls?.cert ? ' with the client certificate' : ''} (${ms} ms)`;
    } finally {
      await connection.close(1_000);
    }
  }

  /**
   * Marks the output down and keeps probing with back-off until a connection is accepted. Not while another
   * connection is healthy: losing one of several connections leaves the output up.
   */
  private markDown(): void {
    if (this.pool.some((c) => c.healthy)) return;
    this.down = true;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.stopController.signal.aborted) return;
    const wait = Math.max(0, this.nextAttemptAt - performance.now());
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopController.signal.aborted || this.pool.some((c) => c.healthy)) return;
      this.probe().then(
        () => {
          this.down = false;
          this.failures = 0;
          this.refusedInStreak = false;
        },
        (error: unknown) => {
          this.down = true;
          this.noteFailure(error);
          this.scheduleReconnect();
        },
      );
    }, wait);
    this.reconnectTimer.unref();
  }

  get openConnections(): number {
    return this.pool.filter((c) => c.healthy).length;
  }

  /**
   * Writes one batch on one connection. With several connections, batches of the `standard` and `internal`
   * services spread over them (order across connections is not kept; within a batch and a connection it
   * is); `lookup` batches all go on the oldest connection, because Devo applies a lookup's START, data and
   * END lines in the order they arrive.
   */
  async write(records: readonly DeliveryRecord[], service: SenderService, flushed?: () => void): Promise<void> {
    if (records.length === 0) return;
    const bytes = this.framed.get(records) ?? this.frame(records);
    this.framed.delete(records);
    return this.send(bytes, records.length, service, flushed);
  }

  /**
   * write() of several batches as one; events given as bytes (EncodedBatch) are framed by copying them
   * (with gzip transport, they are decoded: the members are cut at whole events).
   */
  async writeBatches(batches: readonly Batch[], service: SenderService, flushed?: () => void): Promise<void> {
    let count = 0;
    for (const b of batches) count += b.length;
    if (count === 0) return;
    const ready = batches.length === 1 ? this.framed.get(batches[0]!) : undefined;
    if (ready) this.framed.delete(batches[0]!);
    return this.send(ready ?? this.frameBatches(batches), count, service, flushed);
  }

  private frameBatches(batches: readonly Batch[]): Buffer {
    if (this.options.gzipLevel !== undefined) return this.frame(batches.flatMap(recordsOf));
    return this.encoder.encodeBatches(batches, Date.now(), (size) => this.spareBuffer(size));
  }

  /**
   * The smallest spare buffer of at least `size` bytes, or a new one (rounded up, so that it fits later batches
   * too) in place of the largest spare, which is freed: a spare too small for the batches of the moment is not
   * kept beside the new one (at 2000 events a submission, Proofpoint's pieces of 1.1 and 2.1 MiB left four
   * buffers where two were lent: docs/benchmarks.md, wave 14), so the buffers never outnumber the writes framed
   * at once.
   */
  private spareBuffer(size: number): Buffer {
    let buffer = takeSpare(this.spare, size, (b) => b.byteLength);
    if (buffer !== undefined && buffer.byteLength < size) {
      freeArrayBuffer(buffer);
      buffer = undefined;
    }
    buffer ??= new ArrayBuffer(Math.ceil((size + SPARE_SLACK) / SPARE_SLACK) * SPARE_SLACK);
    const ref = new WeakRef(buffer);
    this.out.add(ref);
    this.outRef.set(buffer, ref);
    this.spareUsedAt = performance.now();
    return Buffer.from(buffer);
  }

  /** A framing buffer is no longer out (see `out`): flushed, or dropped after a failed write. */
  private returned(buffer: ArrayBuffer): void {
    const ref = this.outRef.get(buffer);
    if (ref) this.out.delete(ref);
    this.outRef.delete(buffer);
  }

  /** Framing buffers out now (see `out`). */
  private buffersOut(): number {
    for (const ref of this.out) if (ref.deref() === undefined) this.out.delete(ref);
    return this.out.size;
  }

  /** Keeps an acknowledged framing buffer for the next batch, until the spares go unused (SPARE_IDLE_MS). */
  private keepSpare(buffer: ArrayBuffer): void {
    if (this.spare.length >= SPARES_KEPT) return freeArrayBuffer(buffer);
    this.spare.push(buffer);
    if (this.spareTimer) return;
    const check = (): void => {
      if (performance.now() - this.spareUsedAt < SPARE_IDLE_MS && this.spare.length > 0) {
        this.spareTimer = setTimeout(check, SPARE_IDLE_MS).unref();
        return;
      }
      this.spareTimer = undefined;
      for (const unused of this.spare.splice(0)) freeArrayBuffer(unused);
    };
    this.spareTimer = setTimeout(check, SPARE_IDLE_MS).unref();
  }

  /** Writes one framed batch of `count` events on a connection; see write(). */
  private async send(framed: Buffer | undefined, count: number, service: SenderService, flushed?: () => void): Promise<void> {
    let bytes: Buffer | undefined = framed!;
    framed = undefined; // see below: a suspended function keeps its parameters too
    // Reused once flushed: every slice's write has completed then, and only the settle period is left (never
    // after a failure, when a socket being torn down might still hold it; a batch that fails after its flush
    // is framed again from its records). While a batch settles, the next one is framed into its buffer. Only
    // what spareBuffer() handed out: a buffer framed elsewhere may be a slice of Node's shared pool.
    const buffer = this.outRef.has(bytes.buffer as ArrayBuffer) ? (bytes.buffer as ArrayBuffer) : undefined;
    const size = bytes.length;
    const connection = await this.acquire(service === 'lookup');
    try {
      const sent = connection.send(
        bytes,
        buffer
          ? () => {
              this.returned(buffer);
              this.keepSpare(buffer);
              flushed?.();
            }
          : flushed,
      );
      // A suspended async function keeps its locals: without this, every batch that only waits for its
      // settle period would hold its encoded buffer (up to 2 MiB) until acknowledged.
      bytes = undefined;
      await sent;
      this.failures = 0;
      this.refusedInStreak = false;
      this.down = false;
      this.counters.messages += count;
      this.counters.bytes += size;
    } catch (error) {
      if (buffer) this.returned(buffer);
      this.counters.failedWrites++;
      // Every write in flight on a connection fails with it: that is one failure for the back-off, not N.
      if (!this.failureNoted.has(connection)) {
        this.failureNoted.add(connection);
        this.noteFailure(error);
      }
      this.markDown();
      throw error;
    }
  }

  /**
   * Frames a batch ahead of its write (see Output.prepare): its syslog headers carry the time of this call,
   * a few milliseconds before the bytes leave. Events as bytes are framed into a reused buffer, as
   * writeBatches() frames them.
   */
  prepare(batch: Batch): void {
    if (batch.length === 0 || this.framed.has(batch)) return;
    // Framed now, it would take one more buffer than the writes in progress hold (see FRAMED_AHEAD_BUFFERS).
    if (batch instanceof EncodedBatch && this.options.gzipLevel === undefined && this.buffersOut() >= FRAMED_AHEAD_BUFFERS) return;
    this.framed.set(batch, batch instanceof EncodedBatch ? this.frameBatches([batch]) : this.frame(batch));
  }

  private frame(records: readonly DeliveryRecord[]): Buffer {
    return this.options.gzipLevel === undefined ? this.encoder.encode(records) : this.gzipMembers(records, this.options.gzipLevel);
  }

  /**
   * Devo's Python SDK fills a buffer with whole events and, once it exceeds `compression_buffer_in_bytes`
   * (DCSDK 51200), writes it as one gzip member; members follow each other on the stream unframed.
   */
  private gzipMembers(records: readonly DeliveryRecord[], level: number): Buffer {
    const limit = this.options.gzipBufferBytes ?? 51_200;
    const members: Buffer[] = [];
    let start = 0;
    let size = 0;
    for (let i = 0; i < records.length; i++) {
      size += records[i]!.message.length + records[i]!.tag.length + 64;
      if (size > limit || i === records.length - 1) {
        members.push(gzipSync(this.encoder.encode(records.slice(start, i + 1)), { level }));
        start = i + 1;
        size = 0;
      }
    }
    return members.length === 1 ? members[0]! : Buffer.concat(members);
  }

  /** Encodes without sending (tests, `--check`). */
  encode(records: readonly DeliveryRecord[]): Buffer {
    return this.encoder.encode(records);
  }

  private noteFailure(error: unknown): void {
    const wait = backoffDelay(this.failures, { initialMs: this.options.initialWaitMs ?? 2_000, maxMs: this.options.maxWaitMs ?? 60_000 });
    this.failures++;
    this.nextAttemptAt = performance.now() + wait;
    // A refusal is reported by the pipeline, with its remedy, once a minute: no second ERROR line for it.
    if (isRefusal(error)) this.refusedInStreak = true;
    if (this.failures === (this.options.connectingRetries ?? 5) && !this.refusedInStreak) {
      // The DCSDK gives up here; we never drop events: say so loudly and keep retrying at the capped wait.
      this.log.error(`OutputError 610: Output ${this.name} failed ${this.failures} times in a row; events stay queued (spilled to the emergency persistence once the output has been down for emergency_persistence_after_seconds) and sending is retried every ${Math.round((this.options.maxWaitMs ?? 60_000) / 1000)} s at most`);
    }
  }

  /**
   * A healthy connection for the next write: the least busy one, a new one while fewer than
   * `concurrentConnections` exist and all are busy (unless the connection back-off runs: then an open one
   * is used rather than waiting; or one is being opened and the least busy has fewer than
   * WRITES_PER_CONNECTION writes); `ordered`: the oldest one. Stale ones (idle > 30 s, older than 1 h) are
   * retired first.
   */
  private async acquire(ordered = false): Promise<StreamConnection> {
    const now = performance.now();
    const idleMs = this.options.idleTimeoutMs ?? 30_000;
    const maxAge = this.options.maxConnectionAgeMs ?? 3_600_000;
    for (let i = this.pool.length - 1; i >= 0; i--) {
      const c = this.pool[i]!;
      if (c.healthy && (now - c.lastWriteAt > idleMs || now - c.openedAt > maxAge)) {
        this.log.debug(`Output ${this.name}: reconnecting (${now - c.openedAt > maxAge ? 'connection older than the maximum age' : 'idle'})`);
        c.retire();
      }
      if (!c.healthy) this.pool.splice(i, 1);
    }
    let best: StreamConnection | undefined = ordered ? this.pool[0] : undefined;
    if (!ordered) for (const c of this.pool) if (!best || c.inflight < best.inflight) best = c;
    const max = this.options.concurrentConnections ?? 1;
    // While another connection opens, an open one takes writes up to its share of the pipeline's window
    // (which grows with the connections); past that the write waits for the new connection, so the first one
    // does not hold the whole window before the others exist.
    const opening = this.connecting !== undefined && (best?.inflight ?? 0) < WRITES_PER_CONNECTION;
    if (best && (ordered || best.inflight === 0 || this.pool.length >= max || opening || this.nextAttemptAt > now)) {
      best.reserve();
      return best;
    }
    if (!this.connecting) {
      const attempt = this.openConnection();
      this.connecting = attempt;
      void attempt.then(
        () => (this.connecting = undefined),
        () => (this.connecting = undefined),
      );
    }
    let connection: StreamConnection;
    try {
      connection = await this.connecting;
    } catch (error) {
      // An extra connection that cannot be opened must not fail a batch that an open one can take.
      if (!best?.healthy) throw error;
      connection = best;
    }
    if (!connection.healthy) {
      if (!best?.healthy) throw new OutputError(606, `Connection to ${this.where} was lost`, { retryable: true });
      connection = best;
    }
    connection.reserve();
    return connection;
  }

  private async openConnection(): Promise<StreamConnection> {
    const signal = this.stopController.signal;
    const wait = this.nextAttemptAt - performance.now();
    if (wait > 0) await sleep(wait, signal);
    if (signal.aborted) throw new Error(`Output ${this.name} stopped`);
    const connection = new StreamConnection(this.options.target, this.where);
    this.opening = connection;
    try {
      await connection.connect();
    } catch (error) {
      this.noteFailure(error);
      this.markDown();
      throw error;
    } finally {
      this.opening = undefined;
    }
    if (signal.aborted) {
      connection.fail(new Error(`Output ${this.name} stopped`));
      throw new Error(`Output ${this.name} stopped`);
    }
    this.pool.push(connection);
    connection.whenVerified().then(
      () => {
        this.down = false;
      },
      () => undefined,
    );
    connection.onClosed(() => {
      const i = this.pool.indexOf(connection);
      if (i >= 0) this.pool.splice(i, 1);
      if (this.stopController.signal.aborted) return;
      // A balancer closing an idle connection is normal: check with one reconnect attempt whether the
      // receiver is still there (ready() stays true meanwhile). Anything else marks the output down.
      if (!connection.endedQuietly) {
        if (this.pool.some((c) => c.healthy)) this.log.debug(`Output ${this.name}: a connection was lost; ${this.openConnections} still open`);
        this.markDown();
      }
      else if (this.pool.length === 0 && !connection.retired) this.scheduleReconnect();
    });
    return connection;
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.spareTimer);
    this.opening?.fail(new Error(`Output ${this.name} stopped`));
    await Promise.all(this.pool.splice(0).map((c) => c.close()));
  }
}
