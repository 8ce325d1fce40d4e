import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, describeError } from '../errors/collector-error.js';
import type { Logger } from './logger.js';
import { nodeHttp } from '../http/node-http.js';

/** What the endpoints read on every request. */
export interface HealthSources {
  /** `/ready` body: overall readiness and what is missing. */
  readiness(): Readiness;
  metrics(): Promise<string>;
  metricsContentType: string;
}

export interface Readiness {
  ready: boolean;
  /** Input name → setup finished. */
  inputs: Record<string, boolean>;
  /** Output name → connected. */
  outputs: Record<string, boolean>;
  /** High availability only: `leader` (ready when the rest is), `standby` (never ready) or `lost`. */
  role?: 'leader' | 'standby' | 'lost';
}

export interface HealthServerOptions {
  address: string;
  port: number;
  log: Logger;
  sources: HealthSources;
}

export interface HealthServer {
  /** The bound address and port (port 0 in the config picks a free one). */
  readonly address: string;
  readonly port: number;
  /** `http://<address>:<port>`, for tests and log lines. */
  readonly url: string;
  close(): Promise<void>;
}

/** Config error ID documented in the SDK README (Observability). */
export const HTTP_SERVER_LISTEN_ERROR = 20;

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

async function handle(req: IncomingMessage, res: ServerResponse, sources: HealthSources): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const path = (req.url ?? '/').split('?')[0];
  const json = 'application/json; charset=utf-8';
  switch (path) {
    case '/health':
      send(res, 200, json, '{"status":"ok"}\n', head);
      return;
    case '/ready': {
      const readiness = sources.readiness();
      send(res, readiness.ready ? 200 : 503, json, `${JSON.stringify(readiness)}\n`, head);
      return;
    }
    case '/metrics':
      send(res, 200, sources.metricsContentType, await sources.metrics(), head);
      return;
    default:
      send(res, 404, 'text/plain; charset=utf-8', 'Not found: use /health, /ready or /metrics\n', head);
  }
}

/**
 * Serves `/health`, `/ready` and `/metrics` (`globals.http_server`). A port that cannot be bound is logged
 * as ConfigError 20 and resolves `undefined`: collection goes on without the endpoints.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer | undefined> {
  const { address, port, log, sources } = options;
  const server: Server = nodeHttp.createServer((req, res) => {
    handle(req, res, sources).catch((error: unknown) => {
      log.error(`The ${req.url} endpoint failed: ${describeError(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  // Scrapes and probes are short; don't let an idle keep-alive connection hold the process on stop.
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EACCES' ? 'permission denied' : code;
    log.error(
      new ConfigError(HTTP_SERVER_LISTEN_ERROR, `Cannot serve /metrics, /health and /ready on ${address}:${port} (${why}); collection continues without them`, {
        path: 'globals.http_server.port',
      }).toLine(),
    );
    return undefined;
  }
  server.on('error', (error) => log.error(`The metrics and health server failed: ${describeError(error)}`));
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const url = `http://${host}:${bound.port}`;
  log.info(`Serving /metrics, /health and /ready on ${url}`);
  return {
    address: bound.address,
    port: bound.port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
