import { describe, expect, it } from 'vitest';
import { StreamConnection } from '@collector/sdk/host';
import { useRsyslog } from '@collector/testkit/vitest';
import { rsyslogTarget } from './rsyslog-target.js';

// A connection writes each send in 64 KiB slices (progress for the send watchdog). Sends made while another is
// being written must still reach the receiver whole and in their order.

const rsyslog = useRsyslog();

const target = () => rsyslogTarget(rsyslog);

/** `count` syslog lines of ~900 bytes (line ends fall anywhere within the 64 KiB slices). */
function batch(name: string, count: number): { bytes: Buffer; messages: string[] } {
  const messages = Array.from({ length: count }, (_, i) => `${name}-${i} ${'x'.repeat(850 + ((i * 37) % 97))}`);
  return { bytes: Buffer.from(messages.map((m) => `<14>Dec  7 05:00:00 collector test.slices: ${m}\n`).join('')), messages };
}

describe('StreamConnection: sends written in slices', () => {
  it('three multi-slice sends made at once arrive whole and in order', async () => {
    const connection = new StreamConnection(target(), 'rsyslog');
    await connection.connect();
    await connection.whenVerified();
    try {
      const batches = ['a', 'b', 'c'].map((name) => batch(name, 300)); // ~270 KB each: 5 slices
      await Promise.all(batches.map((b) => connection.send(b.bytes)));
      const expected = batches.flatMap((b) => b.messages);
      const lines = await rsyslog.waitForLines(expected.length);
      expect(lines.map((l) => l.slice(l.indexOf(': ') + 2))).toEqual(expected);
    } finally {
      await connection.close();
    }
  });
});
