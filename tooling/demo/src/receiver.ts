import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createServer, type TLSSocket } from 'node:tls';
import { SyslogFrameParser, tryParseReceivedLine, type Pki } from '@collector/testkit';

/** A Devo-compatible TLS syslog receiver: counts what arrived, tag by tag. */
export interface DemoReceiver {
  /** 'rsyslog' (the real rsyslogd, when installed) or 'node' (the demo's own TLS server). */
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

function countTags(messages: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of messages) {
    const tag = tryParseReceivedLine(text)?.tag ?? '(unparsed)';
    counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  return counts;
}

/**
 * A small TLS server that behaves like Devo's relay for the collectors: TLS only, a client certificate
 * signed by the CA is required (`requestCert` + `rejectUnauthorized`), octet-counted or LF framing.
 */
export async function startNodeReceiver(pki: Pki, port = 0): Promise<DemoReceiver> {
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
          const tag = tryParseReceivedLine(text)?.tag ?? '(unparsed)';
          counts.set(tag, (counts.get(tag) ?? 0) + 1);
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

const RSYSLOGD = process.env['RSYSLOGD'] ?? '/usr/sbin/rsyslogd';
const OSSL_DRIVER = '/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so';

/** True when Debian's rsyslogd with the OpenSSL driver is installed (the receiver the tests use). */
export function rsyslogAvailable(): boolean {
  return existsSync(RSYSLOGD) && existsSync(OSSL_DRIVER);
}

/** The real rsyslogd (via the testkit) with the demo's PKI; same interface as the Node receiver. */
export async function startRsyslogReceiver(pki: Pki, dir: string): Promise<DemoReceiver> {
  const { startRsyslog } = await import('@collector/testkit');
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
export async function startDemoReceiver(pki: Pki, dir: string, prefer: 'auto' | 'node' | 'rsyslog' = 'auto'): Promise<DemoReceiver> {
  if (prefer === 'rsyslog' || (prefer === 'auto' && rsyslogAvailable())) {
    try {
      return await startRsyslogReceiver(pki, dir);
    } catch (error) {
      if (prefer === 'rsyslog') throw error;
    }
  }
  return startNodeReceiver(pki);
}
