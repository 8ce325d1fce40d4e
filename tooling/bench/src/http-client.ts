#!/usr/bin/env node
// CPU per request of the SDK's HTTP client against the Lark simulator (issue 20), beside what the same pages
// cost through a bare node:http keep-alive loop and through fetch:
//   pnpm -s build && node tooling/bench/dist/http-client.js [--events 100000] [--rounds 5] [--work] [--tls] [--baseline <built copy>]
// This process serves the simulator (100,000 events: 500 pages of 200, ~150 KB each) and runs every client in a
// fresh process of its own, alternated round by round, so that each measurement is a collector's situation (a
// few hundred requests, code not yet optimised by the JIT) and shares the machine's load with the others. The
// figure is the client process's CPU time (user + system) over its requests, divided by their number.
// `--work` parses each page and serialises each event as a collector does, and adds `none`: that work alone on
// the same pages held in memory, so a client's cost on a busy process is its figure minus `none`'s. `--tls`
// puts a TLS front (the testkit's PKI, trusted through NODE_EXTRA_CA_CERTS) before the simulator, as a vendor's
// HTTPS API is reached.
import { spawn } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startLarkSimulator } from '@collector/simulators';
import { generatePki, startTlsFront } from '@collector/testkit';

interface Plan {
  urls: string[];
  headers: Record<string, string>;
  baseline?: string;
  work: boolean;
}

interface ChildResult {
  method: string;
  requests: number;
  userUs: number;
  systemUs: number;
  connections: number;
}

type Fetcher = (url: string) => Promise<string>;

/** node:http(s) with a keep-alive agent that keeps the simulator's connection (its `Keep-Alive: timeout=1`). */
function nodeHttpFetcher(headers: Record<string, string>, tls: boolean): Fetcher {
  const http = createRequire(import.meta.url)(tls ? 'node:https' : 'node:http') as typeof import('node:https');
  const agent = new http.Agent({ keepAlive: true, agentKeepAliveTimeoutBuffer: 500 });
  return (url) =>
    new Promise((resolvePage, reject) => {
      http
        .get(url, { headers, agent }, (res) => {
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolvePage(text));
          res.on('error', reject);
        })
        .on('error', reject);
    });
}

async function fetcher(method: string, plan: Plan): Promise<Fetcher> {
  const { headers } = plan;
  switch (method) {
    case 'sdk':
    case 'baseline': {
      const sdk = (method === 'sdk' ? await import('@collector/sdk') : await import(pathToFileURL(join(plan.baseline!, 'packages/sdk/dist/index.js')).href)) as typeof import('@collector/sdk');
      // As the runtime builds it for a service: a stop signal and an observer.
      const client = new sdk.HttpClient({ signal: new AbortController().signal, observer: { onResponse: () => undefined } });
      return async (url) => (await client.request({ url, headers })).text;
    }
    case 'node-http':
      return nodeHttpFetcher(headers, plan.urls[0]!.startsWith('https:'));
    case 'fetch':
      return async (url) => (await fetch(url, { headers })).text();
    case 'none': {
      const pages: string[] = [];
      const load = nodeHttpFetcher(headers, plan.urls[0]!.startsWith('https:'));
      for (const url of plan.urls) pages.push(await load(url));
      let next = 0;
      return () => Promise.resolve(pages[next++]!);
    }
    default:
      throw new Error(`unknown client ${method}`);
  }
}

async function child(method: string, planFile: string): Promise<void> {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
  let connections = 0;
  dc.subscribe('net.client.socket', () => connections++);
  const get = await fetcher(method, plan);
  const opened = connections;
  let sink = 0;
  const before = process.cpuUsage();
  for (const url of plan.urls) {
    const text = await get(url);
    if (!plan.work) sink += text.length;
    else for (const item of (JSON.parse(text) as { data: { items: unknown[] } }).data.items) sink += JSON.stringify(item).length;
  }
  const used = process.cpuUsage(before);
  if (sink === 0) throw new Error('no page read');
  const result: ChildResult = { method, requests: plan.urls.length, userUs: used.user, systemUs: used.system, connections: connections - opened };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(method: string, planFile: string, env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolveRun, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--client', method, planFile], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) => (code === 0 ? resolveRun(JSON.parse(out) as ChildResult) : reject(new Error(`${method} exited with ${code}`))));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  if (args[0] === '--client') return child(args[1]!, args[2]!);
  const events = Number(option('--events') ?? 100_000);
  const rounds = Number(option('--rounds') ?? 5);
  const work = args.includes('--work');
  const tls = args.includes('--tls');
  const baseline = option('--baseline');
  const to = new Date(Date.now() - 3_600_000);
  const closing: (() => Promise<void>)[] = [];
  const sim = await startLarkSimulator({ appId: 'cli_bench', appSecret: 'bench-secret', generate: { count: events, from: new Date(to.getTime() - 3 * 86_400_000), to }, rateLimitPerMinute: 0 });
  try {
    const tokenAnswer = await fetch(`${sim.url}/open-apis/auth/v3/tenant_access_token/internal`, { method: 'POST', body: JSON.stringify({ app_id: 'cli_bench', app_secret: 'bench-secret' }) });
    const headers = { authorization: `Bearer ${((await tokenAnswer.json()) as { tenant_access_token: string }).tenant_access_token}` };
    const latest = Math.floor(to.getTime() / 1000) + 60;
    const urls: string[] = [];
    for (let pageToken: string | undefined, first = true; first || pageToken; first = false) {
      const url = `${sim.url}/open-apis/admin/v1/audit_infos?${new URLSearchParams({ oldest: String(latest - 4 * 86_400), latest: String(latest), page_size: '200', ...(pageToken ? { page_token: pageToken } : {}) }).toString()}`;
      urls.push(url);
      const body = (await (await fetch(url, { headers })).json()) as { data: { has_more: boolean; page_token?: string } };
      pageToken = body.data.has_more ? body.data.page_token : undefined;
    }
    const dir = mkdtempSync(join(tmpdir(), 'bench-http-'));
    const env: NodeJS.ProcessEnv = { ...process.env };
    let pages = urls;
    if (tls) {
      const pki = await generatePki(join(dir, 'pki'));
      const front = await startTlsFront(Number(new URL(sim.url).port), pki);
      closing.push(() => front.close());
      env['NODE_EXTRA_CA_CERTS'] = pki.caCert;
      pages = urls.map((url) => url.replace(sim.url, front.url));
    }
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify({ urls: pages, headers, work, ...(baseline ? { baseline: resolve(baseline) } : {}) } satisfies Plan));
    const methods = [...(baseline ? ['baseline'] : []), 'sdk', 'node-http', 'fetch', ...(work ? ['none'] : [])];
    const results = new Map<string, ChildResult[]>(methods.map((m) => [m, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const method of methods) results.get(method)!.push(await runChild(method, planFile, env));
      process.stderr.write(`[http-client] round ${round}/${rounds}\n`);
    }
    console.log(`${urls.length} requests of ${Math.round(events / urls.length)} events per client process over ${tls ? 'HTTPS' : 'HTTP'}, ${rounds} rounds${work ? ', each page parsed and its events serialised' : ''}; medians, µs of CPU per request`);
    console.log('| client | CPU µs / request | user | system | connections opened | every round |');
    console.log('|---|---:|---:|---:|---:|---|');
    for (const [method, runs] of results) {
      const perRequest = (r: ChildResult) => (r.userUs + r.systemUs) / r.requests;
      console.log(`| ${method} | **${Math.round(median(runs.map(perRequest)))}** | ${Math.round(median(runs.map((r) => r.userUs / r.requests)))} | ${Math.round(median(runs.map((r) => r.systemUs / r.requests)))} | ${median(runs.map((r) => r.connections))} | ${runs.map((r) => Math.round(perRequest(r))).join(', ')} |`);
    }
  } finally {
    for (const close of closing) await close();
    await sim.close();
  }
}

await main();
