// Acknowledged-but-lost counter: streams numbered 1 KB events through the SDK's pipeline into a receiver,
// disrupts the receiver in the middle (rsyslog SIGKILLed and restarted; a TCP relay in front of rsyslog
// that resets both sides; a receiver that dies 2 ms after one read), waits until every event is
// acknowledged and counts the numbers missing at the receiver: each one was acknowledged and lost.
//
//   npx tsx tooling/bench/delivery/loss.ts [repeats=20] [ack_settle_in_ms=default] [batches in flight=16] [scenarios=kill,cut,close]
//
// The disruption comes at a time unrelated to the acknowledgements (a timer from the start of the stream,
// different each repeat), as a receiver crash would. Not a test: what it measures depends on the machine's
// load (how long the receiver takes to read and process what is in its socket buffers).
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, connect as tcpConnect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { createOutputs, DeliveryPipeline, silentLogger, type OutputConfig } from '../../../packages/sdk/src/host.js';
import { devoOutputConfig, generatePki, startRsyslog, type Rsyslog } from '../../testkit/src/index.js';

const REPEATS = Number(process.argv[2] ?? 20);
const SETTLE = process.argv[3] && process.argv[3] !== 'default' ? Number(process.argv[3]) : undefined;
const INFLIGHT = Number(process.argv[4] ?? 16);
const SCENARIOS = (process.argv[5] ?? 'kill,cut,close').split(',');
const TOTAL = 8_000;
const PAD = 'x'.repeat(1000);
const pki = await generatePki(join(tmpdir(), `loss-pki-${process.pid}`));

function numbers(text: string, into: Set<number>): void {
  for (const m of text.matchAll(/\\?"n\\?":(\d+),/g)) into.add(Number(m[1]));
}

/** rsyslog's output file read raw (a line half-written at the kill must not hide the lines after it). */
function receivedBy(rsyslog: Rsyslog): Set<number> {
  const got = new Set<number>();
  numbers(readFileSync(join(rsyslog.dir, 'out', 'received.jsonl'), 'utf8'), got);
  return got;
}

/** Streams TOTAL events to `port`, disrupts after `afterMs`; returns [acknowledged before the disruption, lost]. */
async function stream(port: number, afterMs: number, disrupt: () => Promise<void>, received: () => Promise<Set<number>>): Promise<[number, number]> {
  const block = devoOutputConfig({ port, pki }) as Record<string, OutputConfig>;
  Object.assign(block['devo_1']!.config, { connecting_initial_wait_in_seconds: 0.02, connecting_max_wait_in_seconds: 0.1 }, SETTLE === undefined ? {} : { ack_settle_in_ms: SETTLE });
  const pipeline = new DeliveryPipeline(createOutputs(block, { workDir: tmpdir(), log: silentLogger, hostname: 'h' }), { statsPeriodMs: 0, retryInitialMs: 10, retryMaxMs: 100, maxInflightBatches: INFLIGHT });
  await pipeline.start();
  let acked = 0;
  let ackedBefore = -1;
  const disrupted = new Promise<void>((resolve) => setTimeout(() => {
    ackedBefore = acked;
    void disrupt().then(resolve);
  }, afterMs));
  const acks: Promise<void>[] = [];
  for (let i = 0; i < TOTAL; i += 500) {
    const batch = Array.from({ length: 500 }, (_, j) => ({ tag: 'my.app.test.loss', message: `{"n":${i + j},"pad":"${PAD}"}` }));
    const { delivered } = await pipeline.submit(batch);
    acks.push(delivered.then(() => void (acked += batch.length)));
  }
  await Promise.all(acks);
  await disrupted;
  await pipeline.stop();
  const got = await received();
  let lost = 0;
  for (let n = 0; n < TOTAL; n++) if (!got.has(n)) lost++;
  return [ackedBefore, lost];
}

/** Disruption times spread over the stream (which takes ~50–150 ms here), different each repeat. */
const when = (k: number) => 5 + ((k * 37) % 90);

const scenarios: Record<string, (k: number) => Promise<[number, number]>> = {
  async kill(k) {
    const rsyslog = await startRsyslog({ pki });
    try {
      return await stream(rsyslog.port, when(k), async () => {
        await rsyslog.stop('SIGKILL');
        await rsyslog.restart();
      }, async () => receivedBy(rsyslog));
    } finally {
      await rsyslog.stop();
    }
  },
  async cut(k) {
    const rsyslog = await startRsyslog({ pki });
    const pairs = new Set<[Socket, Socket]>();
    const relay = createTcpServer((client) => {
      const upstream = tcpConnect(rsyslog.port, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      pairs.add(pair);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', drop);
      upstream.on('close', drop);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    try {
      return await stream((relay.address() as { port: number }).port, when(k), async () => {
        for (const [client, upstream] of pairs) {
          upstream.resetAndDestroy();
          client.resetAndDestroy();
        }
      }, async () => {
        await new Promise((r) => setTimeout(r, 300));
        return receivedBy(rsyslog);
      });
    } finally {
      relay.close();
      await rsyslog.stop();
    }
  },
  async close(k) {
    let kept = '';
    const sockets = new Set<TLSSocket>();
    const server = createServer({ key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: true }, (socket: TLSSocket) => {
      let dead = false;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => {
        if (dead) return;
        kept += d.toString('latin1');
      });
      socket.once('crash', () => {
        dead = true;
        setTimeout(() => socket.destroy(), 2);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      return await stream((server.address() as { port: number }).port, when(k), async () => {
        // The receiver "crashes": what it reads from now on is dropped, and it closes 2 ms later.
        for (const socket of sockets) socket.emit('crash');
      }, async () => {
        const got = new Set<number>();
        numbers(kept, got);
        return got;
      });
    } finally {
      server.close();
    }
  },
};
console.log(`repeats ${REPEATS}, ack_settle_in_ms ${SETTLE ?? 'default'}, ${INFLIGHT} batch(es) in flight, ${TOTAL} events of 1 KB per repeat, load ${loadavg()[0]!.toFixed(1)}`);
for (const name of SCENARIOS) {
  const lost: number[] = [];
  const before: number[] = [];
  for (let k = 0; k < REPEATS; k++) {
    const [b, l] = await scenarios[name]!(k);
    before.push(b);
    lost.push(l);
  }
  console.log(`${name}: lost ${lost.reduce((a, b) => a + b, 0)} in ${lost.filter((l) => l > 0).length}/${REPEATS} repeats; per repeat ${lost.join(' ')} (acknowledged before the disruption: ${before.join(' ')}); load ${loadavg()[0]!.toFixed(1)}`);
}
