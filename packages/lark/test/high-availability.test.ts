import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStateStore, readLeaseHolder } from '@collector/sdk/host';
import { makeLarkAuditInfo, startLarkSimulator, type LarkSimulator } from '@collector/simulators';
import { appMain, devoOutputConfig, ensureBuilt, isCollectorLogTag, parseReceivedLine, startRedis, startRsyslog, waitUntil, type ReceivedEvent, type RedisServer, type Rsyslog } from '@collector/testkit';
import { APP_ID, APP_SECRET, HOUR_MS, isoSecondsAgo } from './helpers.js';

// Two real lark-collector processes (the built app) with Redis state and high availability, against the Lark
// simulator (through a proxy that can hold one answer) and a real TLS receiver. Each replica names itself in
// the syslog header (`hostname: ${env:REPLICA}`, the same config file for all), so every received line
// says which replica sent it.

const main = appMain('lark');
// HA_TEST_LEASE_SECONDS / HA_TEST_TRIALS rerun the measurement with other values (e.g. the default lease, 15).
const LEASE_SECONDS = Number(process.env['HA_TEST_LEASE_SECONDS'] ?? 5);
const PERIOD_SECONDS = 2;
const TRIALS = Number(process.env['HA_TEST_TRIALS'] ?? 10);
/** Records per write call of the delivery pipeline (its `batchSize`): the bound on duplicates per failover. */
const DELIVERY_BATCH = 1000;
const STATE_KEY = 'lark;964383;audit_infos';
const PREFIX = 'ha-test:';

/** Forwards to the simulator; `hold()` keeps the next audit_infos answer back until `release()`. */
async function startHoldingProxy(target: string) {
  let arm: { held: () => void; release: Promise<void> } | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type']) if (req.headers[name]) headers[name] = String(req.headers[name]);
      const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) });
      const body = Buffer.from(await answer.arrayBuffer());
      const hold = req.url?.includes('audit_infos') ? arm : undefined;
      if (hold) {
        arm = undefined;
        hold.held();
        await hold.release;
      }
      res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([k]) => k.startsWith('x-') || k === 'content-type'))).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Resolves when an answer is held; call the returned function to let it go. */
    hold(): Promise<() => void> {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      return new Promise((resolve) => (arm = { held: () => resolve(release), release: released }));
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Replica {
  name: string;
  proc: ChildProcess;
  /** Log lines with the test clock's time of arrival. */
  lines: { at: number; text: string }[];
  exited: Promise<number | null>;
  /** When `text` first appears at or after `from` (ms, test clock). */
  when(text: string, from?: number): number | undefined;
  waitFor(text: string, from?: number, timeoutMs?: number): Promise<number>;
  log(): string;
}

let redis: RedisServer;
let rsyslog: Rsyslog;
let sim: LarkSimulator;
let proxy: Awaited<ReturnType<typeof startHoldingProxy>>;
let store: RedisStateStore;
let configFile: string;
const replicas: Replica[] = [];
let counter = 0;

function startReplica(): Replica {
  const name = `replica-${++counter}`;
  const dir = mkdtempSync(join(tmpdir(), `lark-ha-${name}-`));
  const proc = spawn(process.execPath, [main, '--config', configFile], { cwd: dir, env: { ...process.env, REPLICA: name }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Replica['lines'] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    const text = partial + d.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    const at = Date.now();
    for (const p of parts) lines.push({ at, text: p });
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const when = (text: string, from = 0) => lines.find((l) => l.at >= from && l.text.includes(text))?.at;
  const replica: Replica = {
    name,
    proc,
    lines,
    exited,
    when,
    async waitFor(text, from = 0, timeoutMs = 30_000) {
      await waitUntil(() => when(text, from) !== undefined, { timeoutMs, what: `${name}: ${text}` });
      return when(text, from)!;
    },
    log: () => lines.map((l) => l.text).join('\n'),
  };
  replicas.push(replica);
  return replica;
}

/** Live events (10 every 100 ms while the trials run), stamped a second ago (as Lark indexes them). */
let live: NodeJS.Timeout | undefined;
let liveCount = 0;
function addLive(prefix: string, n = 1): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const uniqueId = `${prefix}-${++liveCount}`;
    sim.addEvents(makeLarkAuditInfo({ uniqueId, eventTime: Math.floor(Date.now() / 1000) - 1 }));
    ids.push(uniqueId);
  }
  return ids;
}

/**
 * The event lines received from line `from` on. A frame cut off by a kill -9 mid-write reaches the receiver
 * as a torn line (not JSON): it is counted apart (`torn`); its event was never acknowledged, so the next
 * leader sends it whole, which the no-loss check sees.
 */
function eventLines(from = 0): ReceivedEvent[] {
  const events: ReceivedEvent[] = [];
  for (const raw of rsyslog.lines().slice(from)) {
    const line = parseReceivedLine(raw);
    if (isCollectorLogTag(line.tag)) continue;
    try {
      events.push({ ...line, event: JSON.parse(line.message) as Record<string, unknown> });
    } catch {
      // torn: see above
    }
  }
  return events;
}
const tornLines = () => rsyslog.lines().map(parseReceivedLine).filter((l) => !isCollectorLogTag(l.tag)).length - eventLines().length;
const idOf = (e: ReceivedEvent) => String(e.event['unique_id']);

beforeAll(async () => {
  ensureBuilt(['packages/sdk', 'packages/lark', 'apps/lark']);
  [redis, rsyslog, sim] = await Promise.all([
    startRedis(),
    startRsyslog(),
    startLarkSimulator({ appId: APP_ID, appSecret: APP_SECRET, rateLimitPerMinute: 0, generate: { count: 10_000, from: new Date(Date.now() - 2 * HOUR_MS), to: new Date(Date.now() - 60_000) } }),
  ]);
  proxy = await startHoldingProxy(sim.url);
  store = new RedisStateStore({ host: redis.host, port: redis.port, prefix: PREFIX });
  const dir = mkdtempSync(join(tmpdir(), 'lark-ha-config-'));
  mkdirSync(join(dir, 'config'));
  configFile = join(dir, 'config', 'config.yaml');
  const outputs = devoOutputConfig(rsyslog);
  Object.assign(outputs['devo_1']!.config, { hostname: '${env:REPLICA}', connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 });
  const config = {
    globals: {
      persistence: { type: 'redis', config: { host: redis.host, port: redis.port, prefix: PREFIX } },
      high_availability: { enabled: true, lease_seconds: LEASE_SECONDS },
      http_server: { enabled: true, address: '127.0.0.1', port: 0 },
    },
    outputs,
    inputs: {
      lark: {
        id: 964383,
        credentials: { app_id: APP_ID, app_secret: APP_SECRET },
        requests_limits: [{ period: '1m', number_of_requests: 1000 }],
        services: {
          audit_infos: { override_base_url: proxy.url, initial_start_time_in_utc_value: isoSecondsAgo(3 * HOUR_MS), request_period_in_seconds: PERIOD_SECONDS, lookback_in_seconds: 5 },
        },
      },
    },
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2)); // JSON is YAML
}, 180_000);

afterAll(async () => {
  clearInterval(live);
  for (const r of replicas) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
  await Promise.all(replicas.map((r) => r.exited));
  await store?.close();
  await Promise.all([redis?.stop(), rsyslog?.stop(), sim?.close(), proxy?.close()]);
});

async function leaseHolder() {
  const holder = await readLeaseHolder(await store.connection(), PREFIX);
  if (!holder) throw new Error('nobody holds the lease');
  return holder;
}

const LEADER = 'Leader: acquired the high-availability lease';
const STANDBY = 'Standby: the high-availability lease is held by';

async function readyOf(replica: Replica): Promise<{ status: number; body: Record<string, unknown> }> {
  const line = await replica.waitFor('Serving /metrics, /health and /ready on ');
  const url = /on (http:\/\/\S+)/.exec(replica.lines.find((l) => l.at === line && l.text.includes('Serving'))!.text)![1];
  const answer = await fetch(`${url}/ready`);
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

describe('two lark-collector replicas with Redis state and high availability', () => {
  let leader: Replica;
  let standby: Replica;

  it(`kill -9 of the leader at random points, ${TRIALS} times: the standby takes over within lease_seconds + one request period, nothing is lost`, async () => {
    leader = startReplica();
    await leader.waitFor(LEADER);
    await leader.waitFor('Pull Started');
    standby = startReplica();
    await standby.waitFor(STANDBY);
    expect(await readyOf(standby)).toMatchObject({ status: 503, body: { ready: false, role: 'standby' } });
    expect(await readyOf(leader)).toMatchObject({ status: 200, body: { ready: true, role: 'leader' } });
    live = setInterval(() => addLive('live', 10), 100);

    const results: { from: string; to: string; when: string; acquiredMs: number; firstPullMs: number }[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      // A random point of the leader's life: the first trial mid-catch-up (10 000 events in one window), then
      // alternately shortly after a pull started (pages in flight) and anywhere in the period.
      const pulling = trial % 2 === 0;
      if (pulling && trial > 0) await leader.waitFor('Pull Started', Date.now());
      await new Promise((r) => setTimeout(r, pulling ? Math.random() * 400 : 200 + Math.random() * 2500));
      const killedAt = Date.now();
      leader.proc.kill('SIGKILL');
      await leader.exited;
      const acquired = await standby.waitFor(LEADER, killedAt);
      const firstPull = await standby.waitFor('Pull Started', acquired);
      results.push({ from: leader.name, to: standby.name, when: trial === 0 ? 'catch-up' : pulling ? 'mid-pull' : 'anywhere', acquiredMs: acquired - killedAt, firstPullMs: firstPull - killedAt });
      // The orchestrator restarts the killed replica: it comes back as the standby.
      leader = standby;
      standby = startReplica();
      await standby.waitFor(STANDBY);
    }
    clearInterval(live);
    const expected = new Set(sim.events.map((e) => String(e.unique_id)));
    await waitUntil(() => new Set(eventLines().map(idOf)).size >= expected.size, { timeoutMs: 60_000, what: 'every event received' });

    const lines = eventLines();
    const received = new Set(lines.map(idOf));
    const lost = [...expected].filter((id) => !received.has(id));
    // A duplicate is a line whose id an earlier line already had; it belongs to the failover to its sender.
    const seen = new Set<string>();
    const duplicatesBy = new Map<string, number>();
    for (const line of lines) {
      if (seen.has(idOf(line))) duplicatesBy.set(line.hostname, (duplicatesBy.get(line.hostname) ?? 0) + 1);
      seen.add(idOf(line));
    }
    const report = results.map((r) => ({ ...r, duplicates: duplicatesBy.get(r.to) ?? 0 }));
    console.log(`HA kill -9 trials (lease_seconds ${LEASE_SECONDS}, request period ${PERIOD_SECONDS} s, ${expected.size} events, ${lines.length} event lines received, ${tornLines()} torn by a kill):\n${JSON.stringify(report, null, 1)}`);
    expect(lost).toEqual([]);
    // Only a failover's new leader re-sends: the first leader sent nothing twice.
    expect(duplicatesBy.get('replica-1') ?? 0).toBe(0);
    for (const r of report) {
      expect(r.firstPullMs).toBeLessThanOrEqual((LEASE_SECONDS + PERIOD_SECONDS) * 1000);
      expect(r.duplicates).toBeLessThanOrEqual(DELIVERY_BATCH);
    }
  }, 300_000);

  it('a leader frozen with SIGSTOP past its lease, then resumed, commits nothing and sends nothing once the standby took over', async () => {
    if (!leader) {
      // Run on its own (-t): a pair of its own.
      leader = startReplica();
      await leader.waitFor('Data collection completed', 0, 60_000);
      standby = startReplica();
      await standby.waitFor(STANDBY);
    }
    const frozen = leader;
    const successor = standby;
    const frozenToken = (await leaseHolder()).token;
    // Between two cycles, new events arrive: the first answer of the leader's next cycle carries them (Lark
    // answers newest first), and the proxy holds that answer until the leader is frozen.
    await frozen.waitFor('Data collection completed', Date.now());
    const inHand = addLive('in-hand', 20);
    const release = await proxy.hold();
    frozen.proc.kill('SIGSTOP');
    const stoppedAt = Date.now();
    release(); // the answer reaches the frozen leader's socket
    const tookOver = await successor.waitFor(LEADER, stoppedAt, 30_000);
    const afterwards = addLive('after', 20);
    await waitUntil(() => {
      const ids = new Set(eventLines().map(idOf));
      return [...inHand, ...afterwards].every((id) => ids.has(id));
    }, { timeoutMs: 30_000, what: 'the new leader delivered the held and the new events' });
    const successorToken = (await leaseHolder()).token;
    expect(successorToken).toBeGreaterThan(frozenToken);
    const mark = rsyslog.lines().length;
    const stateBefore = (await store.load(STATE_KEY)) as { checkpoint: { latest: number } };

    const resumedAt = Date.now();
    frozen.proc.kill('SIGCONT');
    const code = await frozen.exited;
    await new Promise((r) => setTimeout(r, 1000));

    expect(code).toBe(1);
    expect(frozen.when('PersistenceError 520: Lost the high-availability lease', resumedAt)).toBeDefined();
    // The cycle the freeze interrupted sent nothing (its answer may have been read: then it was refused).
    const cycle = frozen.lines.find((l) => l.at >= resumedAt && l.text.includes('Statistics for this pull cycle'))?.text ?? '';
    expect(cycle).toContain('Number of events generated and sent: 0;');
    // Sends nothing: no event line from the frozen replica after the takeover...
    expect(eventLines(mark).filter((l) => l.hostname === frozen.name)).toEqual([]);
    const sentByFrozenAfterStop = eventLines().filter((l) => l.hostname === frozen.name && inHand.includes(idOf(l)));
    expect(sentByFrozenAfterStop).toEqual([]);
    // ...and commits nothing: every state write since is the successor's (the fence refuses the frozen one).
    expect((await store.writers())[STATE_KEY]).toBe(successorToken);
    expect(successor.when('PersistenceError', tookOver)).toBeUndefined();
    // The successor's state moved on (or stayed); it never went back to what the frozen leader held.
    const stateAfter = (await store.load(STATE_KEY)) as { checkpoint: { latest: number } };
    expect(stateAfter.checkpoint.latest).toBeGreaterThanOrEqual(stateBefore.checkpoint.latest);
    // Every event exactly as expected: the held ones once, from the successor.
    const lines = eventLines();
    for (const id of [...inHand, ...afterwards]) expect(lines.filter((l) => idOf(l) === id).map((l) => l.hostname)).toEqual([successor.name]);
    console.log(
      `HA SIGSTOP: ${frozen.name} frozen, ${successor.name} took over after ${tookOver - stoppedAt} ms (lease ${LEASE_SECONDS} s); resumed, ${frozen.name} exited ${code} having sent 0 events (${/events received: (\d+)/.exec(cycle)?.[1]} in hand) and written 0 states:\n${frozen.lines
        .filter((l) => l.at >= resumedAt)
        .map((l) => l.text)
        .join('\n')}`,
    );
    for (const r of [successor, ...replicas.filter((x) => x !== frozen && x !== successor)]) if (r.proc.exitCode === null) r.proc.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
  }, 120_000);
});
