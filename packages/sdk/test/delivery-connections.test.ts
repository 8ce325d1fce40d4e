import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOutputs, DeliveryPipeline, publishLookup, silentLogger, type DeliveryRecord, type OutputConfig, type StreamOutput } from '@collector/sdk/host';
import { devoOutputConfig, startRsyslog } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';

// Several TLS connections per output (`concurrent_connections`) into a real rsyslog with client certificates.
// A plain TCP relay sits between the output and rsyslog (TLS stays end to end: rsyslog verifies the client
// certificate) so a test can see each connection and cut one of them.

const HOST = 'testhost';
const FAST = { connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 };

interface Relay {
  port: number;
  /** Bytes each connection carried towards the receiver, in the order the connections were accepted. */
  readonly carried: number[];
  /** Destroys connection `i` on both sides (a balancer or a network path that drops one session). */
  cut(i: number): void;
  /** Closes every connection after the first `n` as soon as it is accepted (a receiver at its session limit). */
  limit(n: number): void;
  /** Connections closed by limit(). */
  readonly refused: number;
  /**
   * Cuts every connection and from then on accepts new ones without ever forwarding a byte (a receiver
   * that hangs in the TLS handshake): nothing written afterwards can be acknowledged.
   */
  blackhole(): void;
  close(): Promise<void>;
}

async function startRelay(target: number): Promise<Relay> {
  const pairs: [Socket, Socket][] = [];
  const carried: number[] = [];
  let blackhole = false;
  let limit = Infinity;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (pairs.length >= limit) {
      refused++;
      client.destroy();
      return;
    }
    if (blackhole) {
      client.pause();
      pairs.push([client, client]);
      carried.push(0);
      return;
    }
    const i = pairs.length;
    const upstream = connect(target, '127.0.0.1');
    pairs.push([client, upstream]);
    carried.push(0);
    client.on('data', (d: Buffer) => {
      carried[i]! += d.length;
      if (!upstream.write(d)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (d: Buffer) => client.write(d));
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    carried,
    limit(n) {
      limit = n;
    },
    get refused() {
      return refused;
    },
    cut(i) {
      for (const s of pairs[i] ?? []) s.destroy();
    },
    blackhole() {
      blackhole = true;
      for (const pair of pairs) for (const s of pair) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) for (const s of pair) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const rsyslog = useRsyslog();

function output(port: number, connections: number, extra: Record<string, unknown> = {}): StreamOutput {
  const block = devoOutputConfig({ port, pki: rsyslog.pki }) as Record<string, OutputConfig>;
  Object.assign(block['devo_1']!.config, FAST, { concurrent_connections: connections }, extra);
  return createOutputs(block, { workDir: tmpdir(), log: silentLogger, hostname: HOST })[0] as StreamOutput;
}

/** `count` events `<prefix>-<n>` of one tag, in batches of 100 (so writes are many and small). */
function events(prefix: string, count: number, tag = 'my.app.test.conns'): DeliveryRecord[][] {
  const batches: DeliveryRecord[][] = [];
  for (let i = 0; i < count; i += 100) batches.push(Array.from({ length: Math.min(100, count - i) }, (_, j) => ({ tag, message: `${prefix}-${i + j}` })));
  return batches;
}

async function submitAll(pipeline: DeliveryPipeline, batches: DeliveryRecord[][]): Promise<Promise<void>[]> {
  const acks: Promise<void>[] = [];
  for (const b of batches) acks.push((await pipeline.submit(b)).delivered);
  return acks;
}

/** The messages of one tag received since line `from`, in arrival order. */
function received(from: number, tag = 'my.app.test.conns'): string[] {
  const marker = ` ${tag}: `;
  return rsyslog
    .lines()
    .slice(from)
    .filter((l) => l.includes(marker))
    .map((l) => l.slice(l.indexOf(marker) + marker.length));
}

/** Records of every write the output rejected (the only ones that may arrive twice). */
function recordRejectedWrites(out: StreamOutput): Set<string> {
  const rejected = new Set<string>();
  const write = out.write.bind(out);
  out.write = async (records, service) => {
    try {
      await write(records, service);
    } catch (error) {
      for (const r of records) rejected.add(r.message);
      throw error;
    }
  };
  return rejected;
}

describe('concurrent_connections against rsyslog over TLS with client certificates', () => {
  it.each([2, 4])('spreads batches over %i connections; every event arrives exactly once', async (n) => {
    const relay = await startRelay(rsyslog.port);
    try {
      const pipeline = new DeliveryPipeline([output(relay.port, n)], { statsPeriodMs: 0, batchSize: 100 });
      await pipeline.start();
      const from = rsyslog.lines().length;
      const sent = events(`n${n}`, 20_000);
      await Promise.all(await submitAll(pipeline, sent));
      await pipeline.stop();
      await rsyslog.waitForLines(from + 20_000);
      const got = received(from);
      expect(got.length).toBe(20_000);
      expect(new Set(got)).toEqual(new Set(sent.flat().map((r) => r.message)));
      // Every connection carried events (not only opened): n sessions, each with more than a handshake.
      expect(relay.carried.length).toBe(n);
      for (const bytes of relay.carried) expect(bytes).toBeGreaterThan(10_000);
    } finally {
      await relay.close();
    }
  });

  it('keeps a lookup in order (START, data, END) on one connection while events load four', async () => {
    const relay = await startRelay(rsyslog.port);
    try {
      const pipeline = new DeliveryPipeline([output(relay.port, 4)], { statsPeriodMs: 0, batchSize: 100 });
      await pipeline.start();
      const from = rsyslog.lines().length;
      const load = submitAll(pipeline, events('bg', 20_000));
      const rows = Array.from({ length: 3000 }, (_, i) => [`k${i}`, i]);
      const lookup = publishLookup(pipeline, { name: 'Conns', headers: ['K', { name: 'V', type: 'int' }], key: 'K', action: 'FULL', rows, delayMs: 0, lookupId: '2.5' });
      await Promise.all(await load);
      await lookup;
      await pipeline.stop();
      await rsyslog.waitForLines(from + 23_002);
      const lines = rsyslog.lines().slice(from).filter((l) => l.includes(' my.lookup.'));
      expect(lines).toHaveLength(3002);
      expect(lines[0]).toContain(' my.lookup.control.Conns.FULL: 2.5_Conns|START|');
      expect(lines.at(-1)).toContain(' my.lookup.control.Conns.FULL: 2.5_Conns|END|');
      // The data lines arrive in the order they were written (one connection, one TCP stream).
      expect(lines.slice(1, -1).map((l) => l.slice(l.indexOf('|') + 1))).toEqual(rows.map(([k, v]) => `"${k}",${v}`));
      expect(relay.carried.length).toBe(4);
    } finally {
      await relay.close();
    }
  });

  it('extra connections refused: the open one takes every batch, no write fails, the output stays ready', async () => {
    const relay = await startRelay(rsyslog.port);
    try {
      relay.limit(1);
      const out = output(relay.port, 3);
      const rejected = recordRejectedWrites(out);
      const pipeline = new DeliveryPipeline([out], { statsPeriodMs: 0, batchSize: 100 });
      await pipeline.start();
      const from = rsyslog.lines().length;
      let wasDown = false;
      const sampler = setInterval(() => (wasDown ||= !out.ready()), 2);
      const sent = events('limit', 10_000);
      await Promise.all(await submitAll(pipeline, sent));
      clearInterval(sampler);
      await pipeline.stop();
      expect(relay.refused).toBeGreaterThan(0);
      expect(rejected.size).toBe(0);
      expect(wasDown).toBe(false);
      await rsyslog.waitForLines(from + 10_000);
      expect(received(from).sort()).toEqual(sent.flat().map((r) => r.message).sort());
    } finally {
      await relay.close();
    }
  });

  it('one of three connections cut mid-run: nothing is lost, only the rejected writes are sent twice', async () => {
    const relay = await startRelay(rsyslog.port);
    try {
      const out = output(relay.port, 3);
      const rejected = recordRejectedWrites(out);
      const pipeline = new DeliveryPipeline([out], { statsPeriodMs: 0, batchSize: 100 });
      await pipeline.start();
      const from = rsyslog.lines().length;
      const sent = events('cut', 30_000);
      const acks: Promise<void>[] = [];
      let cutDone = false;
      for (const b of sent) {
        acks.push((await pipeline.submit(b)).delivered);
        // Once all three connections carry events, cut the second one while writes are in flight on it.
        if (!cutDone && relay.carried.length === 3 && relay.carried[1]! > 50_000) {
          relay.cut(1);
          cutDone = true;
        }
      }
      await Promise.all(acks);
      await pipeline.stop();
      expect(cutDone).toBe(true);
      expect(out.counters.failedWrites).toBeGreaterThan(0);
      await rsyslog.waitForLines(from + 30_000);
      const got = received(from);
      const counts = new Map<string, number>();
      for (const m of got) counts.set(m, (counts.get(m) ?? 0) + 1);
      for (const r of sent.flat()) expect(counts.get(r.message) ?? 0).toBeGreaterThanOrEqual(1);
      for (const [m, c] of counts) if (c > 1) expect(rejected.has(m)).toBe(true);
      // The output replaced the lost connection and went on with the others meanwhile.
      expect(relay.carried.length).toBeGreaterThanOrEqual(4);
    } finally {
      await relay.close();
    }
  });

  it('rsyslog restarted under load with three connections: nothing is lost', async () => {
    const own = await startRsyslog();
    try {
      const block = devoOutputConfig(own) as Record<string, OutputConfig>;
      Object.assign(block['devo_1']!.config, FAST, { concurrent_connections: 3 });
      const pipeline = new DeliveryPipeline(createOutputs(block, { workDir: tmpdir(), log: silentLogger, hostname: HOST }), { statsPeriodMs: 0, batchSize: 100 });
      await pipeline.start();
      const sent = events('rs', 20_000);
      const acks: Promise<void>[] = [];
      let restart: Promise<void> | undefined;
      for (const [i, b] of sent.entries()) {
        acks.push((await pipeline.submit(b)).delivered);
        if (i === 60) restart = own.restart();
      }
      await restart;
      await Promise.all(acks);
      await pipeline.stop();
      const lines = await own.waitForLines(20_000);
      const got = new Set(lines.map((l) => l.slice(l.indexOf(': ') + 2)));
      for (const r of sent.flat()) expect(got.has(r.message)).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it('a receiver that hangs after losing all four connections: drain gives up, stop is bounded, the spool is sent at the next start', async () => {
    const relay = await startRelay(rsyslog.port);
    const dir = mkdtempSync(join(tmpdir(), 'conns-spool-'));
    try {
      const first = new DeliveryPipeline([output(relay.port, 4)], { statsPeriodMs: 0, batchSize: 100, emergencyDir: dir });
      await first.start();
      const from = rsyslog.lines().length;
      // Warm up until all four connections carry events (each opens once the others are busy).
      const warm: DeliveryRecord[][] = [];
      for (let round = 0; round < 10 && relay.carried.length < 4; round++) {
        const more = events(`warm${round}`, 10_000);
        warm.push(...more);
        await Promise.all(await submitAll(first, more));
      }
      expect(relay.carried.length).toBe(4);
      // The relay forwards what it took with a lag, and blackhole() destroys its upstream sockets with whatever
      // they still buffer: bytes acknowledged to us and then lost in a relay, which no syslog sender can see
      // (SDK README, Acknowledgements, "Not covered"). One loaded clean-clone run missed 2,700 of the lines,
      // consistent with that. The case is the receiver hanging afterwards: it starts once the warm-up reached rsyslog.
      await rsyslog.waitForLines(from + warm.flat().length);
      relay.blackhole();
      const stalled = events('stall', 5_000);
      const acks = await submitAll(first, stalled);
      // As the end of --once does: drain gives up (the output is failing), stop hands what is
      // unacknowledged to the emergency persistence, which acknowledges it.
      expect(await first.drain(15_000, 500)).toBe(false);
      await first.stop({ budgetMs: 3_000 });
      const outcomes = await Promise.allSettled(acks);
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      expect(readdirSync(dir).length).toBeGreaterThan(0);

      // The next start (straight to rsyslog) sends the spool first; every event arrives at least once.
      const second = new DeliveryPipeline([output(rsyslog.port, 4)], { statsPeriodMs: 0, batchSize: 100, emergencyDir: dir });
      await second.start();
      await second.flush();
      await second.stop();
      expect(readdirSync(dir)).toEqual([]);
      await rsyslog.waitForLines(from + warm.flat().length + 5_000);
      const got = new Set(received(from));
      for (const r of [...warm, ...stalled].flat()) expect(got.has(r.message)).toBe(true);
    } finally {
      await relay.close();
    }
  });
});
