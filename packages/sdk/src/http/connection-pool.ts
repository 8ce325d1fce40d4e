import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { ProxySettings } from './http-types.js';
import { tunnel } from './proxy-agents.js';
import { proxyFor } from './proxy.js';

/**
 * The SDK HTTP client's keep-alive connections, one pool per origin (scheme, host, port), shared by every
 * `HttpClient` of the process with the same proxy settings: direct, or a CONNECT tunnel through the outbound
 * proxy (for http:// targets too, so a proxy sees every request the same way); TLS with SNI and session
 * resumption for https://. An idle connection stays open 30 s, or until 0.5 s before the server's
 * `Keep-Alive: timeout=N` (a server that says `timeout=1` keeps its connection for the next page instead of
 * costing a handshake per page), the most recently used first; up to 16 connections per origin.
 *
 * Each socket gets its listeners once, for its whole life: a request only sets `Connection.user`. (node:http's
 * ClientRequest and Agent did ~300 µs of JavaScript per request on a collector's cold caches, more than reading
 * the 150 KB page it fetched: docs/benchmarks.md, "Issue 20: the HTTP client per request".)
 */

export const IDLE_MS = 30_000;
/** How long before the server's announced keep-alive timeout an idle connection is closed by us. */
export const KEEP_ALIVE_MARGIN_MS = 500;
export const MAX_CONNECTIONS_PER_ORIGIN = 16;
/** TCP keep-alive probes on every connection (Node's agent sends them after 1 s idle too). */
const TCP_KEEP_ALIVE_MS = 1_000;

/** What a connection hands its events to while it carries a request. */
export interface ConnectionUser {
  data(chunk: Buffer): void;
  /** The server ended the connection. */
  end(): void;
  /** The connection failed or was closed. */
  error(error: Error): void;
}

/** The error of a connection that closed with a request in flight (node:http says the same). */
export function hangUp(): NodeJS.ErrnoException {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

export class Connection {
  /** Requests completed on this connection (more than 0: it was reused, and may have been closed meanwhile). */
  served = 0;
  user: ConnectionUser | undefined;

  constructor(
    readonly socket: Socket,
    origin: OriginPool,
  ) {
    // While idle (no user), anything from the server means the connection is done with.
    socket.on('data', (chunk: Buffer) => (this.user ? this.user.data(chunk) : socket.destroy()));
    socket.on('end', () => (this.user ? this.user.end() : socket.destroy()));
    socket.on('error', (error: Error) => this.user?.error(error));
    socket.on('close', () => {
      this.user?.error(hangUp());
      this.user = undefined;
      origin.closed(this);
    });
    socket.on('timeout', () => {
      if (!this.user) socket.destroy();
    });
  }
}

/** A request waiting for one of the origin's 16 connections. */
interface Waiter {
  resolve(connection: Connection): void;
  reject(error: Error): void;
  timeoutMs: number;
}

/** The connections to one origin. */
class OriginPool {
  private readonly idle: Connection[] = [];
  private readonly waiters: Waiter[] = [];
  /** Open and opening connections. */
  private count = 0;
  private session: Buffer | undefined;
  private readonly host: string;
  private readonly port: number;
  private readonly https: boolean;

  constructor(
    target: URL,
    private readonly proxy: URL | undefined,
  ) {
    this.https = target.protocol === 'https:';
    this.host = target.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(target.port) || (this.https ? 443 : 80);
  }

  /**
   * An idle connection (the most recently used), a new one, or the next one freed when 16 are busy. A caller
   * that no longer wants the connection when it comes must `release` it.
   */
  acquire(timeoutMs: number): Connection | Promise<Connection> {
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (connection.socket.destroyed) continue;
      connection.socket.setTimeout(0);
      connection.socket.ref();
      return connection;
    }
    if (this.count < MAX_CONNECTIONS_PER_ORIGIN) return this.open(timeoutMs);
    return new Promise<Connection>((resolve, reject) => this.waiters.push({ resolve, reject, timeoutMs }));
  }

  /** Back to the pool for `idleMs`, or closed (undefined: the response said not to reuse it). */
  release(connection: Connection, idleMs: number | undefined): void {
    connection.user = undefined;
    connection.served++;
    if (idleMs === undefined || idleMs <= 0 || connection.socket.destroyed) {
      connection.socket.destroy();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) return waiter.resolve(connection);
    connection.socket.setTimeout(idleMs);
    // An idle connection does not keep the process alive (a stopping collector exits at once).
    connection.socket.unref();
    this.idle.push(connection);
  }

  closed(connection: Connection): void {
    this.count--;
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    this.placeFreed();
  }

  /**
   * A place among the origin's connections is free (one closed, or one failed to open): the oldest waiting
   * request tries a connection of its own. It may fail too, but it must not wait for a release that no open
   * connection will make.
   */
  private placeFreed(): void {
    const waiter = this.waiters.shift();
    if (waiter) this.open(waiter.timeoutMs).then(waiter.resolve, waiter.reject);
  }

  private open(timeoutMs: number): Promise<Connection> {
    this.count++;
    return new Promise<Connection>((resolve, reject) => {
      const fail = (error: Error) => {
        this.count--;
        reject(error);
        this.placeFreed();
      };
      const ready = (socket: Socket) => {
        socket.setNoDelay(true);
        socket.setKeepAlive(true, TCP_KEEP_ALIVE_MS);
        resolve(new Connection(socket, this));
      };
      if (this.proxy) {
        tunnel(this.proxy, this.host, this.port, timeoutMs, (error, raw) => {
          if (error || !raw) return fail(error ?? new Error('No tunnel'));
          if (!this.https) return ready(raw);
          this.handshake(tlsConnect({ socket: raw, host: this.host, servername: this.servername(), session: this.session }), timeoutMs, ready, fail);
        });
      } else if (this.https) {
        this.handshake(tlsConnect({ host: this.host, port: this.port, servername: this.servername(), session: this.session }), timeoutMs, ready, fail);
      } else {
        const socket = netConnect({ host: this.host, port: this.port });
        this.connecting(socket, 'connect', timeoutMs, ready, fail);
      }
    });
  }

  private servername(): string | undefined {
    return isIP(this.host) ? undefined : this.host;
  }

  private handshake(socket: TLSSocket, timeoutMs: number, ready: (socket: Socket) => void, fail: (error: Error) => void): void {
    // TLS 1.3 sends its ticket after the handshake; the next connection to this origin resumes with it.
    socket.on('session', (session: Buffer) => (this.session = session));
    this.connecting(socket, 'secureConnect', timeoutMs, ready, fail);
  }

  /** Waits for `event`, failing on an error or after `timeoutMs` of silence. */
  private connecting(socket: Socket, event: 'connect' | 'secureConnect', timeoutMs: number, ready: (socket: Socket) => void, fail: (error: Error) => void): void {
    const onError = (error: Error) => {
      socket.destroy();
      fail(error);
    };
    const onTimeout = () => onError(Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    socket.setTimeout(timeoutMs);
    socket.once('timeout', onTimeout);
    socket.once('error', onError);
    socket.once(event, () => {
      socket.off('error', onError);
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
      ready(socket);
    });
  }
}

/** The origins of one proxy setting. */
class Pool {
  private readonly origins = new Map<string, OriginPool>();

  constructor(private readonly settings: ProxySettings | undefined) {}

  for(target: URL): OriginPool {
    const key = `${target.protocol}//${target.host}`;
    let origin = this.origins.get(key);
    if (!origin) {
      origin = new OriginPool(target, proxyFor(target, this.settings));
      this.origins.set(key, origin);
    }
    return origin;
  }
}

const direct = new Pool(undefined);
const proxied = new WeakMap<ProxySettings, Pool>();

/** The pool of `target`'s origin under `settings` (the same settings object: the same connections). */
export function originPool(target: URL, settings: ProxySettings | undefined): OriginPool {
  if (!settings) return direct.for(target);
  let pool = proxied.get(settings);
  if (!pool) {
    pool = new Pool(settings);
    proxied.set(settings, pool);
  }
  return pool.for(target);
}

export type { OriginPool };
