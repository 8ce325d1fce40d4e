import { createRequire, syncBuiltinESMExports } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '@collector/sdk';
import { StreamConnection, StreamOutput } from '@collector/sdk/host';
import { useRsyslog } from '@collector/testkit/vitest';
import { rsyslogTarget } from './rsyslog-target.js';

// A connection's settle period (how long a flushed write must stay on a healthy connection before it counts
// as delivered) is at least twice the TCP connect time it measured when it opened. What delays that one
// measurement must not become a delay of every acknowledgement for the connection's life: a wall-clock step
// during the handshake made each batch wait twice the step (a 10 s step timed out o365-emt's graph test in
// one CI run), and a process busy when its connect completed measured its own lateness as the round trip.

const tls = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
const HOUR = 3_600_000;

const rsyslog = useRsyslog();

const target = () => rsyslogTarget(rsyslog);

/**
 * Opens a connection to rsyslog; `whileConnecting` runs right after its socket was created (the TCP handshake
 * under way). `connectMs`: the TCP connect time as this test saw it on the monotonic clock, from just before
 * the socket was created to its connect event (handled just before the connection's own listener).
 */
async function connectWhile(whileConnecting: () => void): Promise<{ connection: StreamConnection; connectMs: number }> {
  const original = tls.connect;
  let connectMs = Number.NaN;
  // node:tls's ES exports follow its CommonJS ones after syncBuiltinESMExports: the SDK's `connect` import is this wrapper.
  tls.connect = ((...args: Parameters<typeof tls.connect>) => {
    const began = performance.now();
    const socket = original(...args);
    socket.once('connect', () => (connectMs = performance.now() - began));
    whileConnecting();
    return socket;
  }) as typeof tls.connect;
  syncBuiltinESMExports();
  try {
    const connection = new StreamConnection(target(), 'rsyslog');
    const opened = connection.connect();
    tls.connect = original;
    syncBuiltinESMExports();
    await opened;
    await connection.whenVerified();
    return { connection, connectMs };
  } finally {
    tls.connect = original;
    syncBuiltinESMExports();
  }
}

async function sendLine(connection: StreamConnection, text: string): Promise<void> {
  const before = rsyslog.lines().length;
  await connection.send(Buffer.from(`<14>Dec  6 20:00:00 collector test.connect.time: ${text}\n`));
  const lines = await rsyslog.waitForLines(before + 1);
  expect(lines.at(-1)).toContain(text);
}

describe('StreamConnection: the connect time behind the settle period', () => {
  it('a wall-clock step while the connection opens does not lengthen its acknowledgements', async () => {
    const real = Date.now.bind(Date);
    const clock = vi.spyOn(Date, 'now');
    try {
      // An NTP step (or a VM's clock catching up) of an hour forward during the TCP handshake.
      const { connection, connectMs } = await connectWhile(() => clock.mockImplementation(() => real() + HOUR));
      // Twice the connect time that really passed (50 ms for the few statements before the socket was created).
      expect(connection.settlePeriodMs).toBeLessThanOrEqual(Math.max(20, 2 * (connectMs + 50)));
      // Before: the connection measured a one-hour round trip and acknowledged this write two hours later.
      await sendLine(connection, 'after a clock step');
      await connection.close();
    } finally {
      clock.mockRestore();
    }
  });

  it('a process busy when its connect completed does not count that time as more than a 1 s round trip', async () => {
    // The event loop blocked for 2.5 s (a long GC, a starved CPU): the connect event is handled that late.
    const { connection, connectMs } = await connectWhile(() => {
      const until = performance.now() + 2_500;
      while (performance.now() < until);
    });
    expect(connectMs).toBeGreaterThanOrEqual(2_500);
    // At most 2 × 1 s: a connect slower than the first SYN retransmission (1 s) measured the process, not the path.
    expect(connection.settlePeriodMs).toBeLessThanOrEqual(2_000);
    expect(connection.settlePeriodMs).toBeGreaterThanOrEqual(20);
    await sendLine(connection, 'after a busy connect');
    await connection.close();
  });
});

describe('the delivery measures durations on the monotonic clock', () => {
  it('a wall-clock step of two hours neither retires an open connection as too old nor delays the next write', async () => {
    const debug: string[] = [];
    const log: Logger = { error() {}, warning() {}, warn() {}, info() {}, debug: (m: string) => void debug.push(m), child: () => log, debugEnabled: true };
    const output = new StreamOutput('devo_1', 'devo_platform', { target: target(), hostname: 'collector', maxConnectionAgeMs: HOUR, idleTimeoutMs: HOUR, log });
    await output.start();
    const real = Date.now.bind(Date);
    const clock = vi.spyOn(Date, 'now');
    try {
      await output.write([{ tag: 'test.clock.step', message: 'before the step' }], 'standard');
      // An NTP step (or a VM resumed) two hours forward: the connection is seconds old, not two hours.
      clock.mockImplementation(() => real() + 2 * HOUR);
      await output.write([{ tag: 'test.clock.step', message: 'after the step' }], 'standard');
      const lines = await rsyslog.waitForLines(2);
      expect(lines.filter((l) => l.includes('test.clock.step')).map((l) => l.slice(l.indexOf(': ') + 2))).toEqual(['before the step', 'after the step']);
      // Before: "reconnecting (connection older than the maximum age)" and a new TLS session for the second write.
      expect(debug.filter((m) => m.includes('reconnecting'))).toEqual([]);
    } finally {
      clock.mockRestore();
      await output.stop();
    }
  });
});
