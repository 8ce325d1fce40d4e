// How a delivery batch is handed to a TLS socket, measured: CPU, page faults and wall time of writing the same
// batches (1.6 MB, a Proofpoint batch of 1000 events) into the counting TLS sink (tls-sink.mjs, a process of its
// own) three ways, alternated in one session:
//   queued   every 64 KiB slice written at once (StreamConnection today): the socket writes the slices it holds
//            together (writev), and a TLS socket first copies them into one new buffer;
//   sliced   one slice at a time, the next once the previous is flushed (tried in wave 11 and reverted:
//            docs/benchmarks.md, "the TLS write of a batch, wave 11");
//   whole    the batch in one write (no copy either, but no progress for the send watchdog until it is all out);
//   sdk      StreamConnection of this tree's packages/sdk/dist (run `pnpm build` first), [in flight] sends at a
//            time as the pipeline's window keeps them (16 on one connection), settle 20 ms;
//   sdk-base the same with the StreamConnection of [baseline]/packages/sdk/dist (e.g. /tmp/base12), when given.
// Each batch is a fresh Buffer, as the pipeline frames one per batch.
//
//   npx tsx tooling/bench/delivery/tls-slices.ts [batches=300] [rounds=3] [batch bytes=1600000] [in flight=16] [baseline]
//
// Run it with the apps' malloc setting (MALLOC_MMAP_THRESHOLD_=131072) to see what the collectors see. Prints a
// Markdown table; not a test.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { generatePki } from '../../testkit/src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const BATCHES = Number(process.argv[2] ?? 300);
const ROUNDS = Number(process.argv[3] ?? 3);
const BATCH_BYTES = Number(process.argv[4] ?? 1_600_000);
const IN_FLIGHT = Number(process.argv[5] ?? 16);
const BASELINE = process.argv[6];
const SLICE = 64 * 1024;
type Mode = 'queued' | 'sliced' | 'whole' | 'sdk' | 'sdk-base';
const MODES: Mode[] = ['queued', 'sliced', 'whole', 'sdk', ...(BASELINE ? (['sdk-base'] as const) : [])];

/** The part of StreamConnection this bench drives (loaded from a built dist/, this tree's or the baseline's). */
interface Connection {
  connect(): Promise<void>;
  send(bytes: Buffer): Promise<void>;
  close(): Promise<void>;
}
type ConnectionClass = new (target: object, where: string) => Connection;
async function connectionClass(root: string): Promise<ConnectionClass> {
  return ((await import(join(root, 'packages/sdk/dist/delivery/stream-connection.js'))) as { StreamConnection: ConnectionClass }).StreamConnection;
}
const sdkClasses: Partial<Record<Mode, ConnectionClass>> = {
  sdk: await connectionClass(join(here, '../../..')),
  ...(BASELINE ? { 'sdk-base': await connectionClass(BASELINE) } : {}),
};

function write(socket: TLSSocket, mode: Mode, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve());
    if (mode === 'whole') {
      socket.write(bytes, done);
    } else if (mode === 'queued') {
      for (let off = 0; off < bytes.length; off += SLICE) socket.write(bytes.subarray(off, off + SLICE), off + SLICE >= bytes.length ? done : undefined);
    } else {
      let off = 0;
      const next = (error?: Error | null): void => {
        if (error) return reject(error);
        if (off >= bytes.length) return resolve();
        const end = Math.min(bytes.length, off + SLICE);
        const slice = bytes.subarray(off, end);
        off = end;
        socket.write(slice, next);
      };
      next();
    }
  });
}

const pki = await generatePki();
const sink = fork(join(here, 'tls-sink.mjs'), [pki.caCert, pki.serverCert, pki.serverKey], { stdio: 'inherit' });
const port = await new Promise<number>((resolve) => sink.on('message', (m: { port?: number }) => m.port && resolve(m.port)));
/** BATCHES sends through a StreamConnection, IN_FLIGHT at a time. */
async function viaConnection(Connection: ConnectionClass): Promise<void> {
  const tls = { ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey), servername: 'localhost', checkHostname: true };
  const connection = new Connection({ host: '127.0.0.1', port, tls, connectTimeoutMs: 5_000, sendTimeoutMs: 5_000, settleMs: 20, verifyGraceMs: 200 }, 'sink');
  await connection.connect();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < BATCHES) {
      const b = next++;
      await connection.send(Buffer.allocUnsafe(BATCH_BYTES).fill(97 + (b % 26)));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  await connection.close();
}

const rows: string[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (let i = 0; i < MODES.length; i++) {
    const mode = MODES[(i + round - 1) % MODES.length]!;
    const Connection = sdkClasses[mode];
    if (Connection) {
      const before = process.resourceUsage();
      const started = performance.now();
      await viaConnection(Connection);
      rows.push(row(round, mode, before, started));
      continue;
    }
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey), servername: 'localhost' });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const before = process.resourceUsage();
    const started = performance.now();
    for (let b = 0; b < BATCHES; b++) await write(socket, mode, Buffer.allocUnsafe(BATCH_BYTES).fill(97 + (b % 26)));
    rows.push(row(round, mode, before, started));
    socket.end();
  }
}

function row(round: number, mode: Mode, before: NodeJS.ResourceUsage, started: number): string {
  const ms = performance.now() - started;
  const after = process.resourceUsage();
  const cpuMs = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1000;
  const mb = (BATCHES * BATCH_BYTES) / 1e6;
  const label = mode === 'sdk' ? `sdk (${IN_FLIGHT} in flight)` : mode === 'sdk-base' ? `sdk of ${BASELINE} (${IN_FLIGHT} in flight)` : mode;
  return `| ${round} | ${label} | ${(mb / (ms / 1000)).toFixed(0)} | ${(cpuMs / mb).toFixed(2)} | ${((after.minorPageFault - before.minorPageFault) / BATCHES).toFixed(0)} |`;
}
sink.send('stop');
console.log(`${BATCHES} batches of ${BATCH_BYTES} bytes a round (one at a time, the sdk modes ${IN_FLIGHT} at a time), ${SLICE / 1024} KiB slices, MALLOC_MMAP_THRESHOLD_=${process.env['MALLOC_MMAP_THRESHOLD_'] ?? '(unset)'}\n`);
console.log('| round | write | MB/s | CPU ms / MB | page faults / batch |\n|---:|---|---:|---:|---:|');
console.log(rows.join('\n'));
