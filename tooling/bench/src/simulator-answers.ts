/**
 * Issue 20 (tool11): what the bench's simulators cost the harness that runs them. `pnpm bench` starts each
 * collector's simulator in its own process, with the same data as here; that process shares the 2 cores with
 * the collector it measures, so its memory and its garbage collections disturb the measurement.
 *
 * This starts one vendor's simulator with N events as the bench does (same generators, same spans), asks it
 * for every page a first pull asks for (one-hour intervals, one-day windows with paging, one Graph window with
 * nextLinks), and prints: the set-up time, the process's memory after set-up (after a full GC), the answer
 * times (time to the response head, when the simulator has built the whole body, and to the body's last byte),
 * and a SHA-256 of every answer body in order: two builds answer byte for byte the same when it is equal.
 * The clock of the simulators that take one is fixed (`--now`), and the simulator's own URL is replaced by
 * `BASE` before hashing, so the hash depends on the data only.
 *
 *   node --expose-gc tooling/bench/dist/simulator-answers.js --vendor proofpoint-tap --events 300000 [--root /tmp/base11]
 *
 * `--root` measures the simulators of another built checkout (its `tooling/simulators/dist`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCli } from '@collector/testkit/cli';
import { REPO_ROOT } from './lib/paths.js';

const VENDORS = ['proofpoint-tap', 'lark', 'o365-emt', 'darktrace'] as const;
type Vendor = (typeof VENDORS)[number];

const args = parseCli('node --expose-gc tooling/bench/dist/simulator-answers.js', 'One vendor simulator with N events, as pnpm bench starts it: its memory, its answer times and a hash of its answers.', {
  vendor: { type: 'string', default: 'proofpoint-tap', help: `one of ${VENDORS.join(', ')}` },
  events: { type: 'string', default: '100000', help: 'events the simulator holds' },
  root: { type: 'string', help: 'the root of another built checkout whose simulators are measured instead' },
  now: { type: 'string', default: '2026-12-07T00:00:00Z', help: 'the simulators\' clock, where they take one (fixed, so answers can be compared)' },
});

const vendor = args.vendor as Vendor;
if (!VENDORS.includes(vendor)) {
  console.error(`simulator-answers: --vendor must be one of ${VENDORS.join(', ')}; see --help`);
  process.exit(2);
}
const EVENTS = Number(args.events);
const NOW = Date.parse(args.now);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const root = args.root ? resolve(args.root) : REPO_ROOT;
// The simulators' API as this build declares it; another build's has the same entry points.
type Simulators = typeof import('@collector/simulators');
const sims = (await import(pathToFileURL(join(root, 'tooling', 'simulators', 'dist', 'index.js')).href)) as Simulators;

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
function peakRssMiB(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

interface Timing {
  headMs: number;
  bodyMs: number;
  bytes: number;
}
const timings: Timing[] = [];
const hash = createHash('sha256');
let base = '';

/**
 * One request, timed; its body hashed as it streams in (the simulator's URL replaced by `BASE`), so the
 * client holds no whole body unless `keep` (a page whose paging link is read).
 */
async function get(url: string, init: RequestInit = {}, keep = false): Promise<{ status: number; text: string }> {
  const started = performance.now();
  const response = await fetch(url, init);
  const head = performance.now();
  let carry = '';
  let bytes = 0;
  const kept: Buffer[] = [];
  hash.update(`${response.status}\n`);
  for await (const chunk of response.body ?? []) {
    const buffer = Buffer.from(chunk as Uint8Array);
    bytes += buffer.length;
    if (keep) kept.push(buffer);
    // latin1 maps bytes to characters one to one; a URL split across two chunks is in `carry`.
    const text = (carry + buffer.toString('latin1')).split(base).join('BASE');
    const cut = Math.max(0, text.length - (base.length - 1));
    hash.update(text.slice(0, cut), 'latin1');
    carry = text.slice(cut);
  }
  hash.update(`${carry}\n`, 'latin1');
  timings.push({ headMs: head - started, bodyMs: performance.now() - started, bytes });
  return { status: response.status, text: keep ? Buffer.concat(kept).toString('utf8') : '' };
}

/** A token request: not timed, not hashed (the token is random). */
async function token(url: string, init: RequestInit): Promise<string> {
  return (await fetch(url, init)).text();
}

/** Starts the vendor's simulator with the bench's data; returns the requests of a first pull. */
async function start(): Promise<{ pull: () => Promise<void>; close: () => Promise<void> }> {
  switch (vendor) {
    case 'proofpoint-tap': {
      // tooling/bench/src/vendors/proofpoint-tap.ts: messagesDelivered over 48 h, one-hour intervals.
      const to = Math.floor((NOW - HOUR) / HOUR) * HOUR;
      const from = to - 48 * HOUR;
      const sim = await sims.startProofpointSimulator({ principal: 'p', secret: 's', quota: 1_000_000, seed: 7, clock: () => NOW, generate: [{ service: 'messagesDelivered', count: EVENTS, from, to }] });
      base = sim.url;
      const authorization = `Basic ${Buffer.from('p:s').toString('base64')}`;
      return {
        pull: async () => {
          for (let t = from; t < to; t += HOUR) await get(`${sim.url}/v2/siem/messages/delivered?format=json&interval=${isoSeconds(t)}/${isoSeconds(t + HOUR)}`, { headers: { authorization } });
        },
        close: () => sim.close(),
      };
    }
    case 'lark': {
      // tooling/bench/src/vendors/lark.ts: 3 days, one-day windows, 200 a page.
      const to = new Date(NOW - HOUR);
      const from = new Date(to.getTime() - 3 * DAY);
      const sim = await sims.startLarkSimulator({ appId: 'a', appSecret: 's', generate: { count: EVENTS, from, to }, seed: 1, rateLimitPerMinute: 0, clock: () => NOW });
      base = sim.url;
      return {
        pull: async () => {
          const issued = JSON.parse(await token(`${sim.url}/open-apis/auth/v3/tenant_access_token/internal`, { method: 'POST', body: JSON.stringify({ app_id: 'a', app_secret: 's' }) })) as { tenant_access_token: string };
          const headers = { authorization: `Bearer ${issued.tenant_access_token}` };
          for (let oldest = Math.floor(from.getTime() / 1000) - 60; oldest <= Math.floor(to.getTime() / 1000); oldest += 86_400) {
            let pageToken = '';
            do {
              const latest = Math.min(oldest + 86_399, Math.floor(NOW / 1000));
              const body = JSON.parse((await get(`${sim.url}/open-apis/admin/v1/audit_infos?oldest=${oldest}&latest=${latest}&page_size=200${pageToken ? `&page_token=${pageToken}` : ''}`, { headers }, true)).text) as { data: { has_more: boolean; page_token?: string } };
              pageToken = body.data.has_more ? body.data.page_token! : '';
            } while (pageToken);
          }
        },
        close: () => sim.close(),
      };
    }
    case 'o365-emt': {
      // tooling/bench/src/vendors/o365-emt.ts: one 13-minute Graph window, $top 5000, nextLink paging.
      const to = new Date(NOW - 25 * HOUR - 60_000);
      const from = new Date(to.getTime() - 13 * 60_000);
      const tenant = '0b1e4c2a-6d3f-4e5a-9b8c-7d6e5f4a3b2c';
      const sim = await sims.startO365Simulator({ tenantId: tenant, clientId: 'c', clientSecret: 's', seed: 365, clock: () => NOW, generate: { messages: EVENTS, from, to, maxRecipients: 1, lateFraction: 0 }, graphThrottle: { limit: 0, windowMs: 300_000 } });
      base = sim.url;
      return {
        pull: async () => {
          const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'c', client_secret: 's', scope: 'https://graph.microsoft.com/.default' });
          const issued = JSON.parse(await token(`${sim.url}/${tenant}/oauth2/v2.0/token`, { method: 'POST', body: form })) as { access_token: string };
          const headers = { authorization: `Bearer ${issued.access_token}` };
          const filter = encodeURIComponent(`receivedDateTime ge ${isoSeconds(from.getTime() - 120_000)} and receivedDateTime le ${isoSeconds(to.getTime() + 60_000)}`);
          let url: string | undefined = `${sim.url}/v1.0/admin/exchange/tracing/messageTraces?$filter=${filter}&$top=5000`;
          while (url) url = (JSON.parse((await get(url, { headers }, true)).text) as { '@odata.nextLink'?: string })['@odata.nextLink'];
        },
        close: () => sim.close(),
      };
    }
    case 'darktrace': {
      // tooling/bench/src/vendors/darktrace.ts: breaches over 48 h, one-hour slots (its clock is the machine's).
      const to = Math.floor((NOW - HOUR) / HOUR) * HOUR;
      const from = to - 48 * HOUR;
      const sim = await sims.startDarktraceSimulator({ publicToken: 'pub', privateToken: 'priv', seed: 42, breaches: { from, to, everyMs: Math.max(1, Math.floor((48 * HOUR) / EVENTS)) } });
      base = sim.url;
      return {
        pull: async () => {
          for (let t = from; t < to; t += HOUR) {
            const target = `/modelbreaches?starttime=${t}&endtime=${t + HOUR - 1}`;
            const date = new Date().toISOString().replace(/\.\d{3}Z$/, '').replace(/[-:]/g, '');
            await get(`${sim.url}${target}`, { headers: { 'DTAPI-Token': 'pub', 'DTAPI-Date': date, 'DTAPI-Signature': sims.darktraceSignature('priv', 'pub', target, date) } });
          }
        },
        close: () => sim.close(),
      };
    }
  }
}

const t0 = performance.now();
const sim = await start();
const setupMs = performance.now() - t0;
gc?.();
const held = process.memoryUsage();
const setupPeak = peakRssMiB();
const c0 = process.cpuUsage();
const p0 = performance.now();
await sim.pull();
const pullMs = performance.now() - p0;
const cpu = process.cpuUsage(c0);
await sim.close();
const sum = (f: (t: Timing) => number) => timings.reduce((n, t) => n + f(t), 0);
const sorted = timings.map((t) => t.headMs).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    vendor,
    events: EVENTS,
    root,
    setupMs: Math.round(setupMs),
    afterSetup: { rss: mib(held.rss), heapUsed: mib(held.heapUsed), external: mib(held.external), arrayBuffers: mib(held.arrayBuffers) },
    peakRssMiB: { afterSetup: Math.round(setupPeak), atEnd: Math.round(peakRssMiB()) },
    answers: timings.length,
    answerMB: Math.round(sum((t) => t.bytes) / 1e5) / 10,
    headMs: { total: Math.round(sum((t) => t.headMs)), median: Math.round(sorted[sorted.length >> 1]! * 10) / 10, max: Math.round(sorted.at(-1)! * 10) / 10 },
    bodyMsTotal: Math.round(sum((t) => t.bodyMs)),
    pull: { ms: Math.round(pullMs), cpuMs: Math.round((cpu.user + cpu.system) / 1000) },
    sha256: hash.digest('hex').slice(0, 16),
  }),
);
