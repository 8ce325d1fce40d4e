import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import type { Pki } from './pki.js';
import { tryParseReceivedLine } from './received-line.js';
import { rsyslogAvailable, startRsyslog } from './rsyslog.js';
import { SyslogFrameParser } from './syslog-frames.js';

/**
 * A Devo-compatible TLS syslog receiver for the demo, the image smoke run and the packaging tests: counts what
 * arrived, tag by tag. Tests that assert on the wire format use startRsyslog directly.
 */
export interface SyslogReceiver {
  /** 'rsyslog' (the real rsyslogd, when installed) or 'node' (startNodeSyslogReceiver). */
  kind: 'rsyslog' | 'node';
  host: string;
  port: number;
  /** Messages per tag so far. */
  countsByTag(): Map<string, number>;
  /** Every message so far (kept for tests; the demo only counts). */
  messages(): string[];
  /** Connections refused because the client certificate was missing or untrusted. */
  rejected(): number;
  close(): Promise<void>;
}

function countTag(counts: Map<string, number>, message: string): void {
  const tag = tryParseReceivedLine(message)?.tag ?? '(unparsed)';
  counts.set(tag, (counts.get(tag) ?? 0) + 1);
}

function countTags(messages: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) countTag(counts, message);
  return counts;
}

/**
 * A small TLS server that behaves like Devo's relay for the collectors: TLS only, a client certificate
 * signed by the CA is required (`requestCert` + `rejectUnauthorized`), octet-counted or LF framing.
 */
export async function startNodeSyslogReceiver(pki: Pki, port = 0): Promise<SyslogReceiver> {
  const received: string[] = [];
  const counts = new Map<string, number>();
  let rejected = 0;
  const sockets = new Set<TLSSocket>();
  const server = createServer(
    {
      key: readFileSync(pki.serverKey),
      cert: readFileSync(pki.serverCert),
      ca: readFileSync(pki.caCert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      sockets.add(socket);
      const parser = new SyslogFrameParser();
      socket.on('data', (chunk: Buffer) => {
        let messages: string[];
        try {
          messages = parser.push(chunk);
        } catch {
          socket.destroy();
          return;
        }
        for (const text of messages) {
          received.push(text);
          countTag(counts, text);
        }
      });
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
    },
  );
  server.on('tlsClientError', () => rejected++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    kind: 'node',
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    countsByTag: () => new Map(counts),
    messages: () => [...received],
    rejected: () => rejected,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The real rsyslogd (startRsyslog) with the given PKI; same interface as the Node receiver. */
export async function startRsyslogReceiver(pki: Pki, dir: string): Promise<SyslogReceiver> {
  const rsyslog = await startRsyslog({ pki, dir });
  return {
    kind: 'rsyslog',
    host: rsyslog.host,
    port: rsyslog.port,
    countsByTag: () => countTags(rsyslog.lines()),
    messages: () => rsyslog.lines(),
    rejected: () => (rsyslog.log().match(/peer did not return a certificate|Certificate error/g) ?? []).length,
    close: () => rsyslog.stop(),
  };
}

/** rsyslogd when it is installed, else the Node receiver: either way TLS with client certificates. */
export async function startSyslogReceiver(pki: Pki, dir: string, prefer: 'auto' | 'node' | 'rsyslog' = 'auto'): Promise<SyslogReceiver> {
  if (prefer === 'rsyslog' || (prefer === 'auto' && rsyslogAvailable())) {
    try {
      return await startRsyslogReceiver(pki, dir);
    } catch (error) {
      if (prefer === 'rsyslog') throw error;
    }
  }
  return startNodeSyslogReceiver(pki);
}
