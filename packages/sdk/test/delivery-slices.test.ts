import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { StreamConnection } from '@collector/sdk/host';
import { useRsyslog } from '@collector/testkit/vitest';
import { rsyslogTarget } from './rsyslog-target.js';

// A connection writes each send in 64 KiB slices, one at a time: a TLS socket handed several chunks at once
// writes them together and first copies them all into one new buffer (a delivery batch's megabytes, a write).
// Sends made while another is being written must still reach the receiver whole and in their order.

const tls = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
const rsyslog = useRsyslog();

const target = () => rsyslogTarget(rsyslog);

/** A connection whose TLS socket reports, at each write, how many bytes it already held unwritten. */
async function observedConnection(): Promise<{ connection: StreamConnection; heldAtWrite: number[] }> {
  const original = tls.connect;
  const heldAtWrite: number[] = [];
  // node:tls's ES exports follow its CommonJS ones after syncBuiltinESMExports: the SDK's `connect` import is this wrapper.
  tls.connect = ((...args: Parameters<typeof tls.connect>) => {
    const socket: TLSSocket = original(...args);
    const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
    socket.write = ((...a: unknown[]) => {
      heldAtWrite.push(socket.writableLength);
      return write(...a);
    }) as TLSSocket['write'];
    return socket;
  }) as typeof tls.connect;
  syncBuiltinESMExports();
  try {
    const connection = new StreamConnection(target(), 'rsyslog');
    await connection.connect();
    await connection.whenVerified();
    return { connection, heldAtWrite };
  } finally {
    tls.connect = original;
    syncBuiltinESMExports();
  }
}

/** `count` syslog lines of ~900 bytes (line ends fall anywhere within the 64 KiB slices). */
function batch(name: string, count: number): { bytes: Buffer; messages: string[] } {
  const messages = Array.from({ length: count }, (_, i) => `${name}-${i} ${'x'.repeat(850 + ((i * 37) % 97))}`);
  return { bytes: Buffer.from(messages.map((m) => `<14>Dec  7 05:00:00 collector test.slices: ${m}\n`).join('')), messages };
}

describe('StreamConnection: a send is written slice by slice', () => {
  it('three multi-slice sends made at once arrive whole and in order, each slice written to an empty socket', async () => {
    const { connection, heldAtWrite } = await observedConnection();
    try {
      const batches = ['a', 'b', 'c'].map((name) => batch(name, 300)); // ~270 KB each: 5 slices
      await Promise.all(batches.map((b) => connection.send(b.bytes)));
      const expected = batches.flatMap((b) => b.messages);
      const lines = await rsyslog.waitForLines(expected.length);
      expect(lines.map((l) => l.slice(l.indexOf(': ') + 2))).toEqual(expected);
      const slices = batches.reduce((n, b) => n + Math.ceil(b.bytes.length / 65_536), 0);
      expect(heldAtWrite).toHaveLength(slices);
      // Never a second chunk while one is still held: the socket writes one buffer, not a writev of several.
      expect(heldAtWrite.filter((held) => held > 0)).toEqual([]);
    } finally {
      await connection.close();
    }
  });
});
