import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimiter } from '@collector/sdk';
import { CollectorRuntime, stateFileName } from '@collector/sdk/host';
import { estimateDone, poolOfService, proofpointTapCollector, reserveFor, servicesInPool, steadyNeed } from '../src/index.js';
import { CapturingOutput, waitUntil } from '@collector/testkit';
import { closeAll, config, DAY, HOUR, isoAgo, runOnce, SERVICES, simulator, workDir } from './helpers.js';

afterEach(closeAll);

const budgetFile = (dir: string) => join(dir, 'state', stateFileName('proofpoint_tap;123456;__input__'));
const recorded = (dir: string, pool: string) => (JSON.parse(readFileSync(budgetFile(dir), 'utf8'))[`requests:${pool}`] as number[]) ?? [];

describe('proofpoint_tap: the request budget', () => {
  it('the default arithmetic: 3 services × 288 pulls a day fit the shared 1800 with 936 to spare', () => {
    const three = { messagesBlocked: {}, messagesDelivered: {}, clicksBlocked: {} };
    expect(steadyNeed(three, DAY)).toBe(864);
    expect(reserveFor({ limit: 1800, periodMs: DAY }, 864)).toBe(864);
    expect(steadyNeed({ clicksPermitted: {} }, DAY)).toBe(288);
    // A period of 60 s (Elastic's mistake, one request a minute) does not fit: 4320 > 1800.
    expect(steadyNeed({ a: { request_period_in_seconds: 60 }, b: { request_period_in_seconds: 60 }, c: { request_period_in_seconds: 60 } }, DAY)).toBe(4320);
    // Hourly pulls without look-back: the minimum, 24 windows a day per service (4 services: 96 requests).
    expect(steadyNeed({ a: { request_period_in_seconds: 3600, lookback_in_seconds: 0 } }, DAY)).toBe(24);
    // A look-back that no longer fits the hour doubles the cost of every pull: 3600 + 1800 - 60 s > 1 h.
    expect(steadyNeed({ a: { request_period_in_seconds: 3600, lookback_in_seconds: 1800 } }, DAY)).toBe(48);
    // Up to 1860 s between pulls, the default look-back is folded into the window for free.
    expect(steadyNeed({ a: { request_period_in_seconds: 1860 } }, DAY)).toBe(47);
    // threats reads /v2/siem/all from the shared pool: with it, the four services need 1152 of 1800 (README).
    expect(steadyNeed(servicesInPool({ id: '1', enabled: true }, 'default', poolOfService), DAY)).toBe(1152);
    expect(Object.keys(servicesInPool({ id: '1', enabled: true }, 'default', poolOfService))).toEqual(['messagesBlocked', 'messagesDelivered', 'clicksBlocked', 'threats']);
    expect(steadyNeed({ ...three, threats: { request_period_in_seconds: 600 } }, DAY)).toBe(1008);
  });

  it('estimates when a paced catch-up is current: one slot each time an old request leaves the window', () => {
    const now = Date.now();
    const limiter = new RateLimiter([{ period: '1d', number_of_requests: 10 }], { load: () => [now - 10 * HOUR, now - 8 * HOUR, now - 6 * HOUR, now - 4 * HOUR, now - 2 * HOUR, now - HOUR], save: async () => {} });
    const budget = { limit: 10, periodMs: DAY };
    // 10 - reserve 2 - 6 used = 2 free now.
    expect(estimateDone(limiter, budget, 2, 2, now)).toBe(now);
    // The 4th request needs the 2nd oldest to leave: 8 h ago + 24 h (+ slack).
    expect(estimateDone(limiter, budget, 2, 4, now)).toBe(now - 8 * HOUR + DAY + 5_000);
  });

  it('a scaled-down quota is never exceeded, nothing is throttled, and all four services still catch up', async () => {
    // 6 requests per rolling second per pool in the collector; Proofpoint's window is 0.9 s here because
    // at this scale the time a request takes to arrive (tens of ms on a loaded machine) is a sizeable part
    // of the window. At the real scale (24 h) the collector keeps 5 s of slack for it.
    const sim = await simulator({ quota: 6, quotaWindowMs: 900 });
    for (const [i, service] of SERVICES.entries()) sim.generate({ service, count: 12, from: Date.now() - 4 * HOUR, to: Date.now() - 5 * 60_000, seed: 10 + i });
    const dir = workDir();
    const limit = [{ period: '1s', number_of_requests: 6 }];
    const cfg = config(sim, { common: { start_time_in_utc_format: isoAgo(4 * HOUR) }, input: { requests_limits: limit, requests_pools: { clicksPermitted: limit } } });
    const { out, summary, logs } = await runOnce(dir, cfg);
    expect(summary.errors.join(' | ')).toBe('');
    expect(sim.throttled).toBe(0);
    expect(sim.maxQuotaUsage('default')).toBeLessThanOrEqual(6);
    expect(sim.maxQuotaUsage('clicksPermitted')).toBeLessThanOrEqual(6);
    for (const service of SERVICES) expect(out.events(`mail.proofpoint.tapsiem_v2.${service.toLowerCase()}`)).toHaveLength(12);
    // 3 services × 4-5 windows = 12-15 requests need more than one second of the shared pool: paced, and said so.
    expect(logs).toMatch(/Catching up from .* needs \d+ requests, but pool <default> has \d+ of 6 requests per 1 s left and keeps 3 for the regular pulls: spacing the requests .* expected to be current at about \d{4}-\d\d-\d\dT/);
    expect(sim.requests.filter((r) => r.pool === 'default').length).toBeGreaterThan(6);
  }, 40_000);

  it('the budget is accounted across services and restarts (persisted with the input state)', async () => {
    const sim = await simulator();
    const dir = workDir();
    const cfg = config(sim, { common: { start_time_in_utc_format: isoAgo(2 * HOUR) } });
    await runOnce(dir, cfg);
    const firstDefault = recorded(dir, 'default').length;
    const firstClicks = recorded(dir, 'clicksPermitted').length;
    expect(firstDefault).toBe(sim.requests.filter((r) => r.pool === 'default').length);
    expect(firstClicks).toBe(sim.requests.filter((r) => r.pool === 'clicksPermitted').length);
    await runOnce(dir, cfg);
    expect(recorded(dir, 'default').length).toBe(sim.requests.filter((r) => r.pool === 'default').length);
    expect(recorded(dir, 'default').length).toBeGreaterThan(firstDefault);
    // A budget already spent by earlier runs holds back the next one: with 1800 spent, nothing is sent.
    const spent = Array.from({ length: 1800 }, (_, i) => Date.now() - HOUR + i);
    const full = JSON.parse(readFileSync(budgetFile(dir), 'utf8'));
    full['requests:clicksPermitted'] = spent;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(budgetFile(dir), JSON.stringify(full));
    const before = sim.requests.length;
    const runtime = new CollectorRuntime(proofpointTapCollector, {
      workDir: dir,
      config: config(sim, { services: { clicksPermitted: { start_time_in_utc_format: isoAgo(2 * HOUR) } } }),
      outputs: [new CapturingOutput()],
      logStream: new PassThrough(),
    });
    const running = runtime.run();
    await new Promise((r) => setTimeout(r, 1500));
    await runtime.stop();
    await running;
    expect(sim.requests.length).toBe(before);
  });

  it('a 429 without Retry-After is waited out and retried; everything is still delivered once', async () => {
    const sim = await simulator();
    sim.generate({ service: 'messagesDelivered', count: 8, from: Date.now() - 2 * HOUR, to: Date.now() - 5 * 60_000 });
    sim.faults.inject({ kind: 'throttle' });
    const dir = workDir();
    const limit = [{ period: '1s', number_of_requests: 5 }];
    const { out, summary, logs } = await runOnce(dir, config(sim, { services: { messagesDelivered: { start_time_in_utc_format: isoAgo(2 * HOUR) } }, input: { requests_limits: limit } }));
    expect(summary.errors.join(' | ')).toBe('');
    expect(sim.throttled).toBe(1);
    expect(logs).toMatch(/Throttled by 127\.0\.0\.1:\d+ \(HTTP 429\); waiting/);
    expect(new Set(out.events().map((e) => e['id'])).size).toBe(8);
    expect(out.records).toHaveLength(8);
  }, 30_000);

  it('on a 429 with the real 24 h pool it waits until the oldest request leaves the window', async () => {
    const sim = await simulator();
    sim.faults.inject({ kind: 'throttle', times: 100 });
    const dir = workDir();
    const stream = new PassThrough();
    let logs = '';
    stream.on('data', (d) => (logs += d));
    const runtime = new CollectorRuntime(proofpointTapCollector, {
      workDir: dir,
      config: config(sim, { services: { clicksBlocked: { start_time_in_utc_format: isoAgo(HOUR) } } }),
      outputs: [new CapturingOutput()],
      logStream: stream,
    });
    const running = runtime.run();
    for (let i = 0; i < 100 && !/Throttled by/.test(logs); i++) await new Promise((r) => setTimeout(r, 50));
    await runtime.stop();
    await running;
    const wait = Number(/Throttled by \S+ \(HTTP 429\); waiting (\d+) s/.exec(logs)?.[1]);
    // The only request we made is the oldest one: it leaves the 24 h window in ~86400 s.
    expect(wait).toBeGreaterThan(86_390);
    expect(wait).toBeLessThanOrEqual(86_400);
    expect(sim.requests).toHaveLength(1);
  });
});

describe('proofpoint_tap: the daemon', () => {
  it('a regular pull costs one request: the look-back is folded into the window, and late events still arrive once', async () => {
    const sim = await simulator();
    sim.generate({ service: 'messagesBlocked', count: 5, from: Date.now() - 20 * 60_000, to: Date.now() - 2 * 60_000 });
    const dir = workDir();
    const out = new CapturingOutput();
    const runtime = new CollectorRuntime(proofpointTapCollector, {
      workDir: dir,
      config: config(sim, { services: { messagesBlocked: { start_time_in_utc_format: isoAgo(20 * 60_000), request_period_in_seconds: 1 } } }),
      outputs: [out],
      logStream: new PassThrough(),
    });
    const running = runtime.run();
    let late: ReturnType<typeof sim.generate>;
    try {
      await waitUntil(() => runtime.totals()[0]!.cycles >= 2);
      // A record indexed late, created 5 minutes ago: inside the look-back of the next pulls.
      late = sim.generate({ service: 'messagesBlocked', count: 1, from: Date.now() - 5 * 60_000, to: Date.now() - 4 * 60_000, seed: 3 });
      await waitUntil(() => out.records.length >= 6);
      await waitUntil(() => runtime.totals()[0]!.cycles >= 5);
    } finally {
      await runtime.stop();
      await running;
    }
    const totals = runtime.totals()[0]!;
    expect(totals.requests).toBe(totals.cycles);
    expect(sim.requests.length).toBe(totals.cycles);
    expect(out.records).toHaveLength(6);
    expect(out.events().filter((e) => e['id'] === late[0]!['id'])).toHaveLength(1);
    expect(totals.duplicates).toBeGreaterThan(0);
    const metrics = await runtime.metrics.text();
    expect(metrics).toMatch(/collector_proofpoint_requests_remaining\{[^}]*service="messagesBlocked"[^}]*\} 17\d\d/);
    expect(metrics).toMatch(/collector_proofpoint_windows_behind\{[^}]*service="messagesBlocked"[^}]*\} 0/);
  }, 30_000);
});
