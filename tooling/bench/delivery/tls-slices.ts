// How a delivery batch is handed to a TLS socket, measured: CPU, page faults and wall time of writing the same
// batches (1.6 MB, a Proofpoint batch of 1000 events) into the counting TLS sink (tls-sink.mjs, a process of its
// own) three ways, alternated in one session:
//   queued   every 64 KiB slice written at once (StreamConnection today): the socket writes the slices it holds
//            together (writev), and a TLS socket first copies them into one new buffer;
//   sliced   one slice at a time, the next once the previous is flushed (tried in wave 11 and reverted:
//            docs/benchmarks.md, "the TLS write of a batch, wave 11");
//   whole    the batch in one write (no copy either, but no progress for the send watchdog until it is all out).
// Each batch is a fresh Buffer, as the pipeline frames one per batch.
//
//   npx tsx tooling/bench/delivery/tls-slices.ts [batches=300] [rounds=3] [batch bytes=1600000]
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
const SLICE = 64 * 1024;
const MODES = ['queued', 'sliced', 'whole'] as const;
type Mode = (typeof MODES)[number];

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
const rows: string[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (let i = 0; i < MODES.length; i++) {
    const mode = MODES[(i + round - 1) % MODES.length]!;
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey), servername: 'localhost' });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const before = process.resourceUsage();
    const started = performance.now();
    for (let b = 0; b < BATCHES; b++) await write(socket, mode, Buffer.allocUnsafe(BATCH_BYTES).fill(97 + (b % 26)));
    const ms = performance.now() - started;
    const after = process.resourceUsage();
    socket.end();
    const cpuMs = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1000;
    const mb = (BATCHES * BATCH_BYTES) / 1e6;
    rows.push(`| ${round} | ${mode} | ${(mb / (ms / 1000)).toFixed(0)} | ${(cpuMs / mb).toFixed(2)} | ${((after.minorPageFault - before.minorPageFault) / BATCHES).toFixed(0)} |`);
  }
}
sink.send('stop');
console.log(`${BATCHES} batches of ${BATCH_BYTES} bytes a round, ${SLICE / 1024} KiB slices, MALLOC_MMAP_THRESHOLD_=${process.env['MALLOC_MMAP_THRESHOLD_'] ?? '(unset)'}\n`);
console.log('| round | write | MB/s | CPU ms / MB | page faults / batch |\n|---:|---|---:|---:|---:|');
console.log(rows.join('\n'));
