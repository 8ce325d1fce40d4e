#!/usr/bin/env node
// The "bare fetch-and-send loop" a collector is compared with (`pnpm bench`): what a user would write with no
// SDK at all. It fetches the same pages the collector fetched (same URLs, same authentication), parses each
// page, and writes one syslog line per event (JSON.stringify of the vendor record) over one TLS connection to
// the same rsyslog; no dedup, no state, no acknowledgement. Run as its own process: `node bare-loop.js <plan>`.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import type { BarePlan } from '../vendors/types.js';

export interface BareLoopInput {
  plan: BarePlan;
  receiver: { host: string; port: number; caCert: string; clientCert: string; clientKey: string };
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/;

/** Darktrace's per-request HMAC (the Threat Visualizer API guide): signs path+query, public token and date. */
function darktraceHeaders(url: URL, tokens: { publicToken: string; privateToken: string }): Record<string, string> {
  const m = DATE.exec(new Date().toISOString())!;
  const date = `${m[1]}${m[2]}${m[3]}T${m[4]}${m[5]}${m[6]}`;
  const target = `${url.pathname}${url.search}`;
  const signature = createHmac('sha1', tokens.privateToken).update(`${target}\n${tokens.publicToken}\n${date}`).digest('hex');
  return { 'DTAPI-Token': tokens.publicToken, 'DTAPI-Date': date, 'DTAPI-Signature': signature };
}

function eventsAt(body: unknown, path: string): unknown[] {
  let node: unknown = body;
  if (path !== '') for (const part of path.split('.')) node = (node as Record<string, unknown> | null)?.[part];
  return Array.isArray(node) ? node : [];
}

function write(socket: TLSSocket, data: Buffer): Promise<void> {
  return socket.write(data) ? Promise.resolve() : new Promise((resolve) => socket.once('drain', resolve));
}

async function main(): Promise<void> {
  const { plan, receiver } = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as BareLoopInput;
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const s = connect(
      { host: receiver.host, port: receiver.port, servername: 'localhost', ca: readFileSync(receiver.caCert), cert: readFileSync(receiver.clientCert), key: readFileSync(receiver.clientKey) },
      () => resolve(s),
    );
    s.on('error', reject);
  });
  const header = `<14>2026-01-01 00:00:00.000 bench-host bench.bare.events: `;
  let sent = 0;
  for (const request of plan.requests) {
    const url = new URL(request.url);
    const headers = plan.darktrace ? darktraceHeaders(url, plan.darktrace) : request.headers;
    const response = await fetch(url, { headers });
    if (!response.ok) throw new Error(`${response.status} from ${url.pathname}`);
    const body = (await response.json()) as unknown;
    let text = '';
    for (const path of plan.eventPaths) for (const event of eventsAt(body, path)) {
      text += `${header}${JSON.stringify(event)}\n`;
      sent++;
    }
    if (text !== '') await write(socket, Buffer.from(text));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
  process.stdout.write(`BARE_SENT ${sent}\n`);
}

await main();
