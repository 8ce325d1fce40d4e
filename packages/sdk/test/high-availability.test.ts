import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncodedBatch } from '@collector/sdk';
import { CollectorRuntime, ConfigError, DeliveryPipeline, LeaderElection, PersistenceError, RedisAckJournal, RedisLease, RedisStateStore, leaseKeys, showState, silentLogger } from '@collector/sdk/host';
import { CapturingOutput, startRedis, waitUntil, type RedisServer } from '@collector/testkit';
import { exampleCollector, startExampleApi, type ExampleEvent } from './example-input.js';

let redis: RedisServer;
let client: Redis;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis({ host: redis.host, port: redis.port });
});
afterAll(async () => {
  while (closers.length) await closers.pop()!();
  client?.disconnect();
  await redis?.stop();
});

// For the runtimes built without an output of the test's own (a config needs one).
const CONSOLE = { console_1: { type: 'console' } };

function config(apiUrl: string, start: number, prefix: string, persistence: 'redis' | 'filesystem' = 'redis') {
  return {
    globals: {
      persistence: persistence === 'redis' ? { type: 'redis', config: { host: redis.host, port: redis.port, prefix } } : { type: 'filesystem' },
      high_availability: { enabled: true, lease_seconds: 3 },
      http_server: { enabled: true, address: '127.0.0.1', port: 0 },
    },
    inputs: { example: { id: 7, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: apiUrl, request_period_in_seconds: 1 } } } },
  };
}

function replica(raw: unknown) {
  const output = new CapturingOutput();
  let logs = '';
  const stream = new PassThrough();
  stream.on('data', (chunk) => (logs += chunk));
  const runtime = new CollectorRuntime(exampleCollector, { workDir: mkdtempSync(join(tmpdir(), 'ha-')), config: raw, outputs: [output], logStream: stream });
  return { runtime, output, logs: () => logs, ids: () => output.records.map((r) => JSON.parse(r.message).id as string) };
}

const until = (condition: () => boolean) => waitUntil(condition, { timeoutMs: 15_000 });

describe('high availability: config', () => {
  it('is ConfigError 30 without Redis persistence', () => {
    expect(() => new CollectorRuntime(exampleCollector, { workDir: mkdtempSync(join(tmpdir(), 'ha-')), config: { ...config('http://127.0.0.1:1', Date.now() - 1000, 'x:', 'filesystem'), outputs: CONSOLE } })).toThrow(
      expect.objectContaining({ type: 'ConfigError', id: 30, path: 'globals.high_availability.enabled' }) as ConfigError,
    );
  });

  it('is ignored with a warning by a durable source (a shared queue): no lease, every replica consumes', () => {
    const logs = new PassThrough();
    let text = '';
    logs.on('data', (c) => (text += c));
    const runtime = new CollectorRuntime({ ...exampleCollector, durableSource: true }, { workDir: mkdtempSync(join(tmpdir(), 'ha-')), config: { ...config('http://127.0.0.1:1', Date.now() - 1000, 'sqs:'), outputs: CONSOLE }, logStream: logs });
    expect(runtime.election).toBeUndefined();
    expect(text).toContain('Setting <globals.high_availability> is ignored');
  });
});

describe('high availability: the lease', () => {
  it('has one holder at a time, a growing token, and fences every state write by it', async () => {
    const prefix = `lease:${Math.random()}:`;
    const store = (term?: RedisLease) => {
      const s = new RedisStateStore({ host: redis.host, port: redis.port, prefix });
      if (term) s.fenceWith(() => term.current());
      closers.push(() => s.close());
      return s;
    };
    const plain = store();
    const a = new RedisLease(() => plain.connection(), prefix, 'replica-a', 3);
    const b = new RedisLease(() => plain.connection(), prefix, 'replica-b', 3);
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect(await a.renew()).toBe(true);
    const storeA = store(a);
    await storeA.save('s', { n: 1 });
    expect(await plain.load('s')).toEqual({ n: 1 });

    // A pauses past its term: Redis lets the key lapse and B takes it with a larger token.
    await client.del(leaseKeys(prefix).lease);
    expect(await b.tryAcquire()).toBe(true);
    expect(b.current()!.token).toBeGreaterThan(a.current()!.token);
    // A does not know yet (its local term still runs), but Redis refuses its write atomically.
    await expect(storeA.save('s', { n: 2 })).rejects.toMatchObject({ type: 'PersistenceError', id: 520 });
    expect(await a.renew()).toBe(false);
    const storeB = store(b);
    await storeB.save('s', { n: 3 });
    expect(await plain.load('s')).toEqual({ n: 3 });
    expect(await plain.writers()).toEqual({ s: b.current()!.token });
    // A dropped term refuses locally, before any round trip; the lease keys are no state.
    a.drop();
    await expect(storeA.delete('s')).rejects.toBeInstanceOf(PersistenceError);
    expect(await plain.keys()).toEqual(['s']);
  });

  it('fences the acknowledgement journal like the state: a replica that lost the lease journals nothing', async () => {
    const prefix = `journal:${Math.random()}:`;
    const plain = new RedisStateStore({ host: redis.host, port: redis.port, prefix });
    const journal = (term: RedisLease) => {
      const j = new RedisAckJournal({ host: redis.host, port: redis.port, prefix });
      j.fenceWith(() => term.current());
      closers.push(() => j.close());
      return j;
    };
    closers.push(() => plain.close());
    const a = new RedisLease(() => plain.connection(), prefix, 'replica-a', 3);
    const b = new RedisLease(() => plain.connection(), prefix, 'replica-b', 3);
    expect(await a.tryAcquire()).toBe(true);
    const journalA = journal(a);
    await journalA.append('s', ['k1']);
    await client.del(leaseKeys(prefix).lease);
    expect(await b.tryAcquire()).toBe(true);
    // A's term still runs locally, but Redis refuses its append and its fold atomically.
    await expect(journalA.append('s', ['k2'])).rejects.toMatchObject({ type: 'PersistenceError', id: 520 });
    await expect(journalA.fold('s')).rejects.toMatchObject({ type: 'PersistenceError', id: 520 });
    const journalB = journal(b);
    await journalB.append('s', ['k3']);
    expect(await journalB.read('s')).toEqual(['k1', 'k3']);
  });
});

describe('high availability: the send-side fence', () => {
  it('hands nothing to delivery and writes no event to an output once the term ran out; the collector\'s own log lines still go', async () => {
    const store = new RedisStateStore({ host: redis.host, port: redis.port, prefix: `fence:${Math.random()}:` });
    closers.push(() => store.close());
    const election = new LeaderElection(store, { enabled: true, lease_seconds: 3 }, silentLogger);
    expect(await election.tryLead()).toBe(true);
    const output = new CapturingOutput();
    const fencedOutput = election.fenceOutput(output);
    const pipeline = new DeliveryPipeline([fencedOutput], { statsPeriodMs: 0 });
    await pipeline.start();
    const delivery = election.fenceDelivery(pipeline);
    const record = (message: string) => ({ tag: 'my.app.example.events', message });
    await (await delivery.submit([record('while leading')])).delivered;
    expect(output.records.map((r) => r.message)).toEqual(['while leading']);
    expect(fencedOutput.name).toBe(output.name); // the fenced output is the output in every other respect

    // The local term ends (a pause past it, or no renewal in time): nothing more leaves, whatever is queued.
    election.lease.drop();
    expect(election.leading()).toBe(false);
    await expect(delivery.submit([record('after the term')])).rejects.toMatchObject({ type: 'PersistenceError', id: 520 });
    await expect(fencedOutput.write([record('queued before the pause')], 'standard')).rejects.toMatchObject({ id: 520 });
    await expect(fencedOutput.write([record('a lookup')], 'lookup')).rejects.toMatchObject({ id: 520 });
    await fencedOutput.write([record('the collector\'s own log line')], 'internal');
    expect(output.records.map((r) => r.message)).toEqual(['while leading', "the collector's own log line"]);
    // The expiry timer turns the dropped term into a lost lease.
    await expect(election.lost).resolves.toMatchObject({ id: 520 });
    expect(election.role).toBe('lost');
    await pipeline.stop();
  });
});

describe('high availability: the send-side fence of events as bytes', () => {
  it('an output that takes EncodedBatches (writeBatches) is fenced as write() is', async () => {
    const store = new RedisStateStore({ host: redis.host, port: redis.port, prefix: `fence-bytes:${Math.random()}:` });
    closers.push(() => store.close());
    const election = new LeaderElection(store, { enabled: true, lease_seconds: 3 }, silentLogger);
    expect(await election.tryLead()).toBe(true);
    const output = new (class extends CapturingOutput {
      async writeBatches(batches: readonly unknown[]): Promise<void> {
        for (const b of batches) this.records.push(...(b as EncodedBatch).records());
      }
    })();
    const fencedOutput = election.fenceOutput(output);
    const pipeline = new DeliveryPipeline([fencedOutput], { statsPeriodMs: 0 });
    await pipeline.start();
    const delivery = election.fenceDelivery(pipeline);
    await (await delivery.submit(EncodedBatch.from('my.app.example.events', ['while leading']))).delivered;
    election.lease.drop();
    await expect(delivery.submit(EncodedBatch.from('my.app.example.events', ['after the term']))).rejects.toMatchObject({ id: 520 });
    await expect(fencedOutput.writeBatches!([EncodedBatch.from('my.app.example.events', ['queued before the pause'])], 'standard')).rejects.toMatchObject({ id: 520 });
    expect(output.records.map((r) => r.message)).toEqual(['while leading']);
    await expect(election.lost).resolves.toMatchObject({ id: 520 });
    await pipeline.stop();
  });
});

describe('high availability: two replicas in one process', () => {
  it('the standby waits (503 standby), takes over from the released lease and resumes from the shared checkpoint', async () => {
    const start = Date.now() - 3_600_000;
    const events: ExampleEvent[] = Array.from({ length: 30 }, (_, i) => ({ id: `e${i}`, t: start + i * 60_000 }));
    const api = await startExampleApi(events);
    closers.push(api.close);
    const raw = config(api.url, start, `pair:${Math.random()}:`);
    const a = replica(raw);
    const runningA = a.runtime.run();
    await until(() => a.ids().length === 30);
    const b = replica(raw);
    const runningB = b.runtime.run();
    await until(() => b.logs().includes('Standby: the high-availability lease is held by'));
    expect(a.runtime.readiness()).toMatchObject({ ready: true, role: 'leader' });
    const ready = await fetch(`${b.runtime.httpServer!.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, role: 'standby' });
    const metrics = await (await fetch(`${b.runtime.httpServer!.url}/metrics`)).text();
    expect(metrics).toContain('collector_ha_role{role="standby"} 1');
    expect(metrics).toContain('collector_ha_role{role="leader"} 0');
    const shown = JSON.parse(await showState(new CollectorRuntime(exampleCollector, { workDir: mkdtempSync(join(tmpdir(), 'ha-')), config: { ...(raw as object), outputs: CONSOLE }, readOnlyState: true })));
    expect(shown.high_availability.lease.holder).toBe(`${(await import('node:os')).hostname()}:${process.pid}`);

    // A third replica waits too, and stops cleanly while it waits.
    const c = replica(raw);
    const runningC = c.runtime.run();
    await until(() => c.logs().includes('Standby: the high-availability lease is held by'));
    await c.runtime.stop();
    await runningC;
    expect(c.ids()).toEqual([]);

    await a.runtime.stop();
    await runningA;
    expect(a.logs()).toContain('Released the high-availability lease');
    await until(() => b.logs().includes('Leader: acquired the high-availability lease'));
    // Stamped after A's last window ended (this API has no look-back), so only B can pull it.
    events.push({ id: 'late', t: Date.now() });
    await until(() => b.ids().includes('late'));
    await b.runtime.stop();
    await runningB;
    // Everything once over both replicas: B resumed after A's checkpoint.
    expect([...a.ids(), ...b.ids()].sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('a leader that cannot reach Redis for a whole term stops: it cannot tell that from a lost lease', async () => {
    const start = Date.now() - 600_000;
    const api = await startExampleApi([{ id: 'first', t: start + 1000 }]);
    closers.push(api.close);
    const own = await startRedis();
    closers.push(() => own.stop());
    const raw = config(api.url, start, 'outage:');
    (raw.globals.persistence.config as { port: number }).port = own.port;
    const a = replica(raw);
    const running = a.runtime.run().then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(() => a.ids().includes('first'));
    const cutAt = Date.now();
    await own.stop();
    const error = await running;
    expect(error).toMatchObject({ type: 'PersistenceError', id: 520, message: expect.stringContaining('the lease term ran out without a successful renewal (3 s)') as string });
    // It held out for the rest of its term (renewing), not for the retries of a single command.
    expect(Date.now() - cutAt).toBeLessThan(3_000 + 5_000); // the term, then a shutdown that sends nothing
    expect(a.logs()).toContain('Cannot renew the high-availability lease');
  });

  it('a leader whose lease is taken stops at its next renewal: its writes are refused and run() fails with PersistenceError 520', async () => {
    const start = Date.now() - 600_000;
    const events: ExampleEvent[] = [{ id: 'first', t: start + 1000 }];
    const api = await startExampleApi(events);
    closers.push(api.close);
    const prefix = `steal:${Math.random()}:`;
    const a = replica(config(api.url, start, prefix));
    const running = a.runtime.run().then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(() => a.ids().includes('first'));
    // Another replica takes the lease as if A's had lapsed (a real lapse is the SIGSTOP test of the Lark
    // collector). A keeps pulling every second until its renewal finds out; each commit it tries is refused.
    await client.del(leaseKeys(prefix).lease);
    const thief = new RedisLease(async () => client, prefix, 'other', 3);
    expect(await thief.tryAcquire()).toBe(true);
    const stateKey = `${prefix}example;7;events`;
    const before = await client.get(stateKey);
    // --once does not run beside a leader.
    const once = replica(config(api.url, start, prefix));
    await expect(once.runtime.runOnce()).rejects.toMatchObject({ type: 'PersistenceError', id: 521, message: expect.stringContaining('held by other') as string });
    const error = await running;
    expect(error).toMatchObject({ type: 'PersistenceError', id: 520, message: expect.stringContaining('Redis holds the lease for another replica now') as string });
    expect(a.logs()).toContain('Lost the high-availability lease: stopping at once');
    expect(a.runtime.readiness()).toMatchObject({ ready: false, role: 'lost' });
    expect(await client.get(stateKey)).toBe(before);
    // The thief's lease is untouched: A's graceful shutdown released nothing that was not its own.
    expect(await client.get(leaseKeys(prefix).lease)).toBe(thief.current()!.value);
  });
});
