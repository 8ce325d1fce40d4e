import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import type { Pki } from './pki.js';

export interface TlsFront {
  port: number;
  /** `https://localhost:<port>` (the testkit server certificate is for localhost and 127.0.0.1). */
  url: string;
  /** TLS connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * HTTPS in front of a plain-HTTP peer (a vendor simulator, moto): terminates TLS with the testkit PKI's
 * server certificate and relays the bytes to 127.0.0.1:`targetPort`, as a TLS-terminating load balancer in
 * front of a vendor API does. Clients trust it through the PKI's CA (`ca`, or NODE_EXTRA_CA_CERTS).
 */
export async function startTlsFront(targetPort: number, pki: Pki): Promise<TlsFront> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (client) => {
    connections++;
    const upstream = netConnect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://localhost:${port}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
