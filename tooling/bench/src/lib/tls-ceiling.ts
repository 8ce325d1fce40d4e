import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import type { Rsyslog } from '@collector/testkit';

/**
 * The ceiling every delivery figure is compared with: a minimal Node TLS client writing pre-built syslog
 * lines to the same rsyslog as fast as the socket takes them. Returns events/s and MB/s. Works with a
 * countOnly receiver (waits on count(), not lines()).
 */
export async function tlsCeiling(rsyslog: Rsyslog, lines: string[], timeoutMs = 300_000): Promise<{ eventsPerSecond: number; mbPerSecond: number; ms: number }> {
  const before = rsyslog.count();
  const chunks = payloadChunks(lines);
  const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const socket = connect(
      {
        host: rsyslog.host,
        port: rsyslog.port,
        servername: 'localhost',
        ca: readFileSync(rsyslog.pki.caCert),
        cert: readFileSync(rsyslog.pki.clientCert),
        key: readFileSync(rsyslog.pki.clientKey),
      },
      () => {
        let next = 0;
        const pump = () => {
          while (next < chunks.length) {
            const ok = socket.write(chunks[next++]!);
            if (!ok) return void socket.once('drain', pump);
          }
          socket.end(resolve);
        };
        pump();
      },
    );
    socket.on('error', reject);
  });
  const deadline = Date.now() + timeoutMs;
  while (rsyslog.count() < before + lines.length) {
    if (Date.now() > deadline) throw new Error(`ceiling: rsyslog counted ${rsyslog.count() - before} of ${lines.length}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = performance.now() - started;
  return { eventsPerSecond: (lines.length / ms) * 1000, mbPerSecond: bytes / 1e6 / (ms / 1000), ms };
}

const CHUNK_BYTES = 256 * 1024;

/**
 * The lines as ~256 KiB buffers, built before the clock starts. Not one joined string: a million lines of
 * ~900 bytes exceed V8's longest string (`Invalid string length`).
 */
function payloadChunks(lines: readonly string[]): Buffer[] {
  const chunks: Buffer[] = [];
  let text = '';
  for (const line of lines) {
    text += line;
    if (text.length >= CHUNK_BYTES) {
      chunks.push(Buffer.from(text));
      text = '';
    }
  }
  if (text !== '') chunks.push(Buffer.from(text));
  return chunks;
}

/** `count` syslog lines of `bytes` each (header included), shaped like a collector's JSON events. */
export function syntheticLines(count: number, bytes: number, tag = 'bench.ceiling.events'): string[] {
  const header = `<14>2026-01-01 00:00:00.000 bench-host ${tag}: `;
  const fill = Math.max(0, bytes - header.length - '{"n":0000000,"x":""}\n'.length);
  const filler = 'x'.repeat(fill);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`${header}{"n":${String(i).padStart(7, '0')},"x":"${filler}"}\n`);
  return lines;
}
