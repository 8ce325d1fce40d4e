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
  const payload = Buffer.from(lines.join(''));
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
        const chunk = 256 * 1024;
        let offset = 0;
        const pump = () => {
          while (offset < payload.length) {
            const ok = socket.write(payload.subarray(offset, offset + chunk));
            offset += chunk;
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
  return { eventsPerSecond: (lines.length / ms) * 1000, mbPerSecond: payload.length / 1e6 / (ms / 1000), ms };
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
