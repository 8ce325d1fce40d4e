import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { OutputError } from '../errors/collector-error.js';

export interface TlsSettings {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** SNI and the name the server certificate must match (the address when it is a host name). */
  servername?: string;
  /** Verify the server certificate's name (the chain is always verified). */
  checkHostname: boolean;
}

export interface ConnectionTarget {
  host: string;
  port: number;
  /** TLS 1.2–1.3 when set, plain TCP otherwise. */
  tls?: TlsSettings;
  connectTimeoutMs: number;
  /** A write that makes no progress for this long fails the connection (DCSDK `sending_timeout`). */
  sendTimeoutMs: number;
  /**
   * How long a flushed write must stay on a healthy connection before it counts as delivered, at least.
   * The effective value is max(this, 2 × the TCP connect time): a peer that dies or rejects us shows it
   * (RST, alert, FIN) about one round trip later.
   */
  settleMs: number;
  /**
   * TLS 1.3 only: how long to wait for proof that the server accepted our certificate when it sends no
   * session ticket. Until then nothing is acknowledged.
   */
  verifyGraceMs: number;
}

interface PendingSend {
  /** Told once the bytes are flushed to a verified connection and the settle period runs. */
  flushed: (() => void) | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
  /** Once its own bytes are flushed: the stream offset (bytes queued on the connection then) its settle waits for. */
  waitFor?: number;
}

/** A send's bytes not yet handed to the socket. */
interface QueuedSend {
  bytes: Buffer;
  /** Bytes of it already written. */
  offset: number;
  send: PendingSend;
}

const REJECTED_CERT = new Set(['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE']);
const BAD_SERVER_CERT = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE']);

/**
 * The most of a measured TCP connect time that counts as the path's round trip. Linux retransmits a lost SYN
 * after 1 s, and no terrestrial path takes that long: a slower connect measured a retransmission or a process
 * that handled its connect event late (a long GC, a starved CPU), and each write on the connection would
 * otherwise wait twice that for its acknowledgement, for the connection's whole life.
 */
const MAX_RTT_ESTIMATE_MS = 1_000;

/**
 * Bytes per socket write: progress granularity for the send watchdog. One slice is written at a time, the
 * next once the previous is flushed: a TLS socket handed several buffers at once (the stream's writev of
 * what queued behind a write) first copies them into one new buffer, ~3 CPU ms a MB.
 */
const SLICE = 64 * 1024;

const CERTS_REMEDY =
  'Download the certificate, the private key and the chain CA from Devo (Administration → Credentials → X.509 Certificates) of the domain you send to, save them in certs/ and name them in the output\'s cert, key and chain';

/** Maps a socket error to the documented OutputError IDs, with the operator's next step. Messages never contain key material. */
export function describeSocketError(error: NodeJS.ErrnoException, where: string): OutputError {
  const code = error.code ?? '';
  if (REJECTED_CERT.has(code)) {
    return new OutputError(604, `${where} rejected our client certificate (${code})`, {
      cause: error, retryable: true, remedy: `The receiver does not accept cert/key (another domain, expired, or signed by another CA). ${CERTS_REMEDY}`,
    });
  }
  if (BAD_SERVER_CERT.has(code)) {
    return new OutputError(605, `The server certificate of ${where} is not trusted (${code})`, {
      cause: error, retryable: true,
      remedy: code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'The address does not match the server certificate: use the collector host name Devo gives (e.g. collector-us.devo.io), or check_hostname: false for a relay addressed by IP'
        : `chain does not verify the server certificate. ${CERTS_REMEDY}`,
    });
  }
  const remedy = code === 'ECONNREFUSED' ? 'Nothing accepts connections there: check address, port and that the receiver runs'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'The address does not resolve: check address and DNS'
    : 'Check address, port, firewall and proxy rules towards the receiver';
  return new OutputError(606, `Connection to ${where} failed: ${code || error.message}`, { cause: error, retryable: true, remedy });
}

/**
 * One TCP or TLS connection to a syslog receiver. `send` resolves only once its bytes were flushed, the
 * server is known to have accepted us (TLS 1.3 reports a rejected client certificate only after
 * secureConnect: we wait for a session ticket, which a server sends only after verifying the client, or a
 * grace period), and the connection stayed healthy for a settle period after that. Any error, close or
 * FIN before then rejects every unsettled send: a rejected certificate can never be acknowledged.
 */
export class StreamConnection {
  readonly openedAt = performance.now();
  lastWriteAt = performance.now();
  /** Sends not yet settled. */
  inflight = 0;
  private socket: Socket | TLSSocket | undefined;
  private failure: Error | undefined;
  private verified = false;
  private handshakeMs = 0;
  /** TCP connect time (at most MAX_RTT_ESTIMATE_MS): a round-trip estimate free of TLS CPU time. */
  private rttMs = 0;
  private readonly pending = new Set<PendingSend>();
  private readonly awaitingVerify: PendingSend[] = [];
  private verifyTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private unflushed = 0;
  /** Sends whose bytes wait for the socket, in order; `writing` while one slice is with the socket. */
  private readonly queue: QueuedSend[] = [];
  private writing = false;
  /** Bytes handed to send() and bytes flushed, since the connection opened: offsets in its stream. */
  private queuedBytes = 0;
  private flushedBytes = 0;
  /** Sends whose own bytes are flushed, waiting for the bytes queued behind them then (see onSliceFlushed). */
  private readonly draining: PendingSend[] = [];
  private lastProgressAt = performance.now();
  private retiring = false;
  private reserved = 0;
  private quietEnd = false;
  private verifiedListeners: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private closedListeners: (() => void)[] = [];

  constructor(private readonly target: ConnectionTarget, readonly where: string) {}

  /** `TLSv1.3` / `TLSv1.2` once connected over TLS; undefined for plain TCP. */
  get protocol(): string | undefined {
    const socket = this.socket as TLSSocket | undefined;
    return typeof socket?.getProtocol === 'function' ? (socket.getProtocol() ?? undefined) : undefined;
  }

  get healthy(): boolean {
    return this.socket !== undefined && this.failure === undefined && !this.retiring;
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  onClosed(listener: () => void): void {
    this.closedListeners.push(listener);
  }

  /**
   * How long a flushed write must stay on the healthy connection before it counts as delivered:
   * `settleMs`, or twice the connect time when that is longer.
   */
  get settlePeriodMs(): number {
    return Math.max(this.target.settleMs, 2 * this.rttMs);
  }

  /** Connects; resolves at (secure)connect, rejects with an OutputError. */
  connect(): Promise<void> {
    const t = this.target;
    // The monotonic clock: a wall-clock step during the handshake is not a round trip (see MAX_RTT_ESTIMATE_MS).
    const started = performance.now();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (!settled) {
          settled = true;
          reject(error);
        }
      };
      const onOpen = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.handshakeMs = performance.now() - started;
        socket.setTimeout(0);
        resolve();
      };
      let socket: Socket | TLSSocket;
      if (t.tls) {
        const servername = t.tls.servername ?? (isIP(t.host) ? undefined : t.host);
        const tlsSocket = tlsConnect({
          host: t.host,
          port: t.port,
          ca: t.tls.ca,
          cert: t.tls.cert,
          key: t.tls.key,
          ...(servername ? { servername } : {}),
          minVersion: 'TLSv1.2',
          maxVersion: 'TLSv1.3',
          rejectUnauthorized: true,
          ...(t.tls.checkHostname ? {} : { checkServerIdentity: () => undefined }),
        });
        socket = tlsSocket;
        tlsSocket.once('secureConnect', () => {
          onOpen(); // sets handshakeMs, used just below
          // TLS 1.2 finishes the handshake only after the server verified our certificate.
          if (tlsSocket.getProtocol() !== 'TLSv1.3') setImmediate(() => this.markVerified());
          else this.verifyTimer = setTimeout(() => this.markVerified(), Math.max(t.verifyGraceMs, 3 * this.handshakeMs));
        });
        // A NewSessionTicket arrives only after the server accepted our Finished and certificate.
        // Deferred: the event fires inside OpenSSL's read processing, and a write from a continuation
        // running there corrupts the record layer (the server then fails with bad record mac).
        tlsSocket.once('session', () => setImmediate(() => this.markVerified()));
      } else {
        socket = netConnect({ host: t.host, port: t.port });
        socket.once('connect', () => {
          this.markVerified();
          onOpen();
        });
      }
      this.socket = socket;
      socket.setNoDelay(true);
      socket.once('connect', () => (this.rttMs = Math.min(MAX_RTT_ESTIMATE_MS, performance.now() - started)));
      const timer = setTimeout(() => {
        const error = new OutputError(606, `Connection to ${this.where} timed out after ${t.connectTimeoutMs} ms`, {
          retryable: true, remedy: 'Check address, port, firewall and proxy rules towards the receiver',
        });
        this.fail(error);
        fail(error);
      }, t.connectTimeoutMs);
      socket.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const described = describeSocketError(error, this.where);
        this.fail(described);
        fail(described);
      });
      // Receivers send nothing; reading keeps FIN and RST visible at once.
      socket.on('data', () => undefined);
      socket.on('end', () => this.fail(new OutputError(607, `${this.where} closed the connection`, { retryable: true })));
      socket.on('close', () => {
        clearTimeout(timer);
        const error = this.failure ?? new OutputError(607, `${this.where} closed the connection`, { retryable: true });
        this.fail(error);
        fail(error);
      });
      this.watchdog = setInterval(() => {
        if (this.unflushed > 0 && performance.now() - this.lastProgressAt > t.sendTimeoutMs) {
          this.fail(new OutputError(608, `Sending to ${this.where} made no progress for ${t.sendTimeoutMs} ms`, { retryable: true }));
        }
      }, Math.max(250, Math.min(t.sendTimeoutMs, 1000)));
      this.watchdog.unref();
    });
  }

  /** Resolves once the server is known to have accepted us; rejects when the connection fails first. */
  whenVerified(): Promise<void> {
    if (this.verified && !this.failure) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.verifiedListeners.push({ resolve, reject }));
  }

  /** True when the connection ended because we retired it, or the peer closed it while nothing was in flight. */
  get endedQuietly(): boolean {
    return this.quietEnd;
  }

  private markVerified(): void {
    if (this.verified || this.failure) return;
    this.verified = true;
    clearTimeout(this.verifyTimer);
    for (const l of this.verifiedListeners.splice(0)) l.resolve();
    for (const p of this.awaitingVerify.splice(0)) this.settleLater(p);
  }

  private settleLater(p: PendingSend): void {
    p.flushed?.();
    p.timer = setTimeout(() => {
      // setImmediate runs after this loop turn's I/O phase: a FIN, RST or alert that arrived while the
      // process was busy is handled (and fails the send) before the acknowledgement can happen.
      setImmediate(() => {
        if (this.failure || !this.pending.has(p)) return;
        this.pending.delete(p);
        this.inflight--;
        p.resolve();
        this.maybeEnd();
      });
    }, this.settlePeriodMs);
  }

  /**
   * Writes `bytes`; resolves once they count as delivered (see the class comment). `flushed` is called when
   * they are flushed to a verified connection, i.e. when only the settle period is left.
   */
  send(bytes: Buffer, flushed?: () => void): Promise<void> {
    const socket = this.socket;
    if (this.failure) return Promise.reject(this.failure);
    if (!socket) return Promise.reject(new OutputError(606, `Not connected to ${this.where}`, { retryable: true }));
    if (bytes.length === 0) {
      this.release();
      return Promise.resolve();
    }
    if (this.reserved > 0) this.reserved--;
    else this.inflight++;
    this.lastWriteAt = performance.now();
    if (this.unflushed === 0) this.lastProgressAt = performance.now();
    this.unflushed++;
    return new Promise<void>((resolve, reject) => {
      const p: PendingSend = { flushed, resolve, reject };
      this.pending.add(p);
      this.queue.push({ bytes, offset: 0, send: p });
      this.queuedBytes += bytes.length;
      this.writeNext();
    });
  }

  /**
   * Hands the socket the next slice (a view, no copy) unless one is being written. Slices flushed one by one
   * are the sending_timeout watchdog's progress: one 1 MB write to a slow but healthy link must not look stalled.
   */
  private writeNext(): void {
    const socket = this.socket;
    const head = this.queue[0];
    if (this.writing || this.failure || !socket || !head) return;
    const end = Math.min(head.bytes.length, head.offset + SLICE);
    const slice = head.bytes.subarray(head.offset, end);
    head.offset = end;
    const done = end === head.bytes.length ? head.send : undefined;
    if (done) this.queue.shift(); // the connection no longer holds the batch's buffer once its last slice is flushed
    this.writing = true;
    socket.write(slice, (error) => this.onSliceFlushed(error, slice.length, done));
  }

  /**
   * A send's settle starts only once everything queued on the connection when its own last bytes were flushed
   * is flushed too, as when the stream wrote all queued slices together (one writev, flushed as a whole). A
   * batch whose settle started as soon as its own bytes reached the kernel could still sit unread in socket
   * buffers when its settle period ends, and be acknowledged although a receiver dying then never read it
   * (without this, acknowledged events were lost in 8 of 14 loaded runs of delivery-loss-repeat; docs/benchmarks.md,
   * "the TLS write of a batch", waves 11 and 12).
   */
  private onSliceFlushed(error: Error | null | undefined, length: number, done: PendingSend | undefined): void {
    this.writing = false;
    this.lastProgressAt = performance.now();
    if (done) this.unflushed--;
    if (error || this.failure) {
      this.fail(this.failure ?? describeSocketError(error as NodeJS.ErrnoException, this.where));
      return;
    }
    this.flushedBytes += length;
    if (done) {
      done.waitFor = this.queuedBytes;
      this.draining.push(done);
    }
    // waitFor only grows along the queue: the sends ready to settle are at its head.
    while (this.draining.length > 0 && this.draining[0]!.waitFor! <= this.flushedBytes) {
      const p = this.draining.shift()!;
      if (this.verified) this.settleLater(p);
      else this.awaitingVerify.push(p);
    }
    this.writeNext();
  }

  /** Counts a send that is about to be made (so concurrent writers spread over connections). */
  reserve(): void {
    this.reserved++;
    this.inflight++;
  }

  /** Undoes reserve() when the send will not be made. */
  release(): void {
    if (this.reserved === 0) return;
    this.reserved--;
    this.inflight--;
    this.maybeEnd();
  }

  /** We retired it (idle, age, stop): its end says nothing about the receiver. */
  get retired(): boolean {
    return this.retiring;
  }

  /** Takes no new sends; closes gracefully once every send in flight settled. */
  retire(): void {
    this.retiring = true;
    this.maybeEnd();
  }

  private maybeEnd(): void {
    if (this.retiring && this.inflight === 0 && this.socket && !this.failure) {
      this.quietEnd = true;
      this.failure = new OutputError(607, `Connection to ${this.where} was retired`, { retryable: true });
      for (const l of this.verifiedListeners.splice(0)) l.reject(this.failure);
      this.socket.end();
      this.cleanup();
    }
  }

  /** Fails every unsettled send and closes the socket. */
  fail(error: Error): void {
    if (this.failure && this.pending.size === 0) return;
    if (!this.failure && this.verified && this.inflight === 0 && !(error instanceof OutputError && error.id === 608)) this.quietEnd = true;
    this.failure ??= error;
    for (const l of this.verifiedListeners.splice(0)) l.reject(this.failure);
    for (const p of this.pending) {
      clearTimeout(p.timer);
      p.reject(this.failure);
    }
    this.pending.clear();
    this.awaitingVerify.length = 0;
    this.queue.length = 0;
    this.draining.length = 0;
    this.inflight = 0;
    this.reserved = 0;
    this.socket?.destroy();
    this.cleanup();
  }

  private cleanup(): void {
    clearTimeout(this.verifyTimer);
    clearInterval(this.watchdog);
    const listeners = this.closedListeners.splice(0);
    for (const l of listeners) l();
  }

  /** Graceful close: lets unsettled sends settle first (at most `timeoutMs`), then ends the stream. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.failure || !this.socket) return;
    const socket = this.socket;
    this.retire();
    if (!this.failure) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.fail(new OutputError(607, `Connection to ${this.where} closed while sending`, { retryable: true }));
          resolve();
        }, timeoutMs);
        this.onClosed(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, 1_000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
