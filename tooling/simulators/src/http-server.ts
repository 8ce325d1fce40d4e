import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// The HTTP plumbing every simulator (and the demo's mini AWS) shares.

/** Starts `server` on a free port of 127.0.0.1; its base URL (no trailing slash) and port. */
export async function listenOnLoopback(server: Server): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port };
}

/** Stops `server`, dropping kept-alive connections (a client's idle socket would otherwise hold it open). */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Binary search in `items` sorted by `key`: the first index whose key is >= `value`. */
export function lowerBound<T>(items: readonly T[], value: number, key: (item: T) => number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(items[mid]!) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
