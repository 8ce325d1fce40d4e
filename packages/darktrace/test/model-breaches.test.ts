import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useRsyslog } from '@collector/testkit/vitest';
import { jsonRecords, type HttpResponse } from '@collector/sdk';
import { modelBreachKey } from '../src/services/model-breaches.js';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, HOUR, newWorkDir, runOnce, simulator, TAGS, utc } from './helpers.js';

// Every run here delivers through the SDK's devo_platform output to a real rsyslog TLS receiver.
const rsyslog = useRsyslog();

afterEach(closeSimulators);

const pbids = (events: Record<string, unknown>[]) => events.map((e) => e['pbid'] as number);

describe('modelbreaches', () => {
  it('pulls a long history slot by slot, each breach once, with the manual log lines and no secrets', async () => {
    const start = hoursAgo(30);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(1), everyMs: 7 * 60_000 } });
    const truth = pbids(sim.breachesBetween(start, Date.now()) as never);
    expect(truth.length).toBeGreaterThan(200);
    const workDir = newWorkDir();
    const config = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(start) } });
    const { summary, out, logs, delivered, received } = await runOnce(workDir, config, rsyslog);

    expect(summary.errors).toEqual([]);
    expect(pbids(delivered(TAGS.modelbreaches))).toEqual(truth);
    expect(out.records.filter((r) => r.tag === TAGS.modelbreaches)).toHaveLength(truth.length);
    expect(received.every((l) => l.tag === TAGS.modelbreaches)).toBe(true);
    // Each line is the breach as Darktrace sent it (the simulator writes JSON.stringify), the pulling id appended last.
    for (const line of received) {
      const { ['@devo_pulling_id']: id, ...breach } = line.event;
      expect(line.message).toBe(`${JSON.stringify(breach).slice(0, -1)},"@devo_pulling_id":"${String(id)}"}`);
    }
    const first = delivered(TAGS.modelbreaches)[0]!;
    expect(first['@devo_pulling_id']).toMatch(/^\d{13}$/);
    expect(first).toHaveProperty('breachUrl');
    expect(first['model']).not.toHaveProperty('now'); // historicmodelonly=true

    // 30 full hours plus the part of the current hour: 31 slots, one request each (+1 setup request).
        const breachLogs = logs.split('\n').filter((l) => l.includes(',modelbreaches,predefined)')).join('\n');
    const slotLines = breachLogs.match(/Number of events received for time slot >> \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00 - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00 is: \d+/g) ?? [];
    expect(slotLines).toHaveLength(31);
    expect(breachLogs).toContain('Total number of time slots to be processed: 31');
    expect(logs).toContain(`Number of events received for time slot >> ${start.toISOString().slice(0, 10)} ${start.toISOString().slice(11, 19)}+00:00 - `);
    expect(breachLogs).toContain('Number of processed time slots so far: 12');
    expect(logs).toContain('Tokens have been validated successfully.');
    const breachRequests = sim.requests.filter((r) => r.path === '/modelbreaches');
    expect(breachRequests).toHaveLength(31);
    expect(breachRequests[0]!.target).toBe(`/modelbreaches?starttime=${start.getTime()}&endtime=${start.getTime() + HOUR}&creationtime=true&expandenums=true&historicmodelonly=true&includeacknowledged=true&includebreachurl=true`);
    expect(sim.requests.every((r) => r.status === 200)).toBe(true);

    // Secrets: not in the logs, not on the wire (internal log lines included), not in the persisted state.
    const wire = rsyslog.lines().join('\n');
    expect(wire).not.toContain(sim.privateToken);
    expect(wire).not.toContain(sim.publicToken);
    expect(logs).not.toContain(sim.privateToken);
    expect(logs).not.toContain(sim.publicToken);
    const stateDir = join(workDir, 'state');
    for (const file of readdirSync(stateDir)) {
      const text = readFileSync(join(stateDir, file), 'utf8');
      expect(text).not.toContain(sim.privateToken);
      expect(text).not.toContain(sim.publicToken);
    }
  });

  it('restarts without duplicates, and a breach created late inside an already pulled slot arrives once', async () => {
    const start = hoursAgo(6);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(1), everyMs: 5 * 60_000 } });
    const workDir = newWorkDir();
    const config = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(start), lookback_in_minutes: 180 } });

    const first = await runOnce(workDir, config, rsyslog);
    expect(first.summary.errors).toEqual([]);
    const firstIds = pbids(first.delivered(TAGS.modelbreaches));
    expect(firstIds.length).toBeGreaterThan(50);

    // A restart with nothing new sends nothing (the look-back re-reads, dedup drops). The breaches end at the
    // last full hour minus one, so a 180-minute look-back re-reads some of them at any minute of the hour.
    const second = await runOnce(workDir, config, rsyslog);
    expect(second.delivered(TAGS.modelbreaches)).toHaveLength(0);
    expect(second.summary.services.find((s) => s.service === 'modelbreaches')!.duplicates).toBeGreaterThan(0);

    // Darktrace creates a breach now whose time lies 40 minutes back: a slot we already pulled. Read by
    // creation time, it lies in the next slot (one that is at least a second long).
    const late = sim.addBreach(Date.now() - 40 * 60_000);
    await new Promise((r) => setTimeout(r, 1100));
    const third = await runOnce(workDir, config, rsyslog);
    expect(pbids(third.delivered(TAGS.modelbreaches))).toEqual([late.pbid]);

    const fourth = await runOnce(workDir, config, rsyslog);
    expect(fourth.delivered(TAGS.modelbreaches)).toHaveLength(0);

    // Across all runs every breach arrived exactly once.
    const all = [...firstIds, ...pbids(third.delivered(TAGS.modelbreaches))];
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort((a, b) => a - b)).toEqual(pbids(sim.breachesBetween(start, Date.now()) as never).sort((a, b) => a - b));
  });

  it('a breach Darktrace creates three hours after its time arrives exactly once (creationtime=true, the default)', async () => {
    const start = hoursAgo(5);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(1), everyMs: 10 * 60_000 } });
    const byCreation = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(start) } });
    const byTime = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(start), creationtime: false } });
    const [creationDir, timeDir] = [newWorkDir(), newWorkDir()];
    expect((await runOnce(creationDir, byCreation, rsyslog)).delivered(TAGS.modelbreaches).length).toBeGreaterThan(20);
    await runOnce(timeDir, byTime, rsyslog);

    const late = sim.addBreach(Date.now() - 3 * HOUR);
    await new Promise((r) => setTimeout(r, 1100));
    const second = await runOnce(creationDir, byCreation, rsyslog);
    expect(second.delivered(TAGS.modelbreaches)).toMatchObject([{ pbid: late.pbid, time: late.time, creationTime: late.creationTime }]);
    expect(late.creationTime - late.time).toBeGreaterThanOrEqual(3 * HOUR);
    expect((await runOnce(creationDir, byCreation, rsyslog)).delivered(TAGS.modelbreaches)).toHaveLength(0);

    // Windowed on `time` with the 60-minute look-back, the same breach is never read: why creationtime is on.
    expect(pbids((await runOnce(timeDir, byTime, rsyslog)).delivered(TAGS.modelbreaches))).not.toContain(late.pbid);
  });

  it('a changed start_time_in_utc_format resets the persistence and says so as the manual does', async () => {
    const sim = await simulator({ breaches: { from: hoursAgo(5), to: hoursAgo(1), everyMs: 20 * 60_000 } });
    const workDir = newWorkDir();
    const before = utc(hoursAgo(3));
    const after = utc(hoursAgo(5));
    const a = await runOnce(workDir, darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: before } }), rsyslog);
    const b = await runOnce(workDir, darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: after } }), rsyslog);
    expect(b.logs).toContain(
      `The configuration property "start_time" is having a different value from previous collector executions so the persisted values will be removed. The new "start_time" value will be used as starting point, previous_value: "${before}", new_value: "${after}"`,
    );
    expect(b.delivered(TAGS.modelbreaches).length).toBe(sim.breachesBetween(hoursAgo(5), Date.now()).length);
    expect(b.delivered(TAGS.modelbreaches).length).toBeGreaterThan(a.delivered(TAGS.modelbreaches).length);
  });

  it('survives a 500 (retried), a timeout (retried) and a garbage body (PullError 301, resumed next run)', async () => {
    const start = hoursAgo(3);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(1), everyMs: 10 * 60_000 } });
    const workDir = newWorkDir();
    const config = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(start) } });
    sim.faults.inject({ kind: 'status', status: 500, on: '/modelbreaches' });
    sim.faults.inject({ kind: 'drop', afterMs: 50, on: '/modelbreaches' });
    const ok = await runOnce(workDir, config, rsyslog);
    expect(ok.summary.errors).toEqual([]);
    expect(ok.delivered(TAGS.modelbreaches)).toHaveLength(sim.breachesBetween(start, Date.now()).length);
    // Each fault that was survived still says so in the log.
    expect(ok.logs).toMatch(/WARNING .*The request for time slot >> .* failed \(.*500.*\); retrying it/);
    expect(ok.logs).toMatch(/WARNING .*(retrying it|retry 1\/5)/);

    const late = sim.addBreach(Date.now() - 10 * 60_000);
    await new Promise((r) => setTimeout(r, 1100));
    sim.faults.inject({ kind: 'garbage', on: '/modelbreaches' });
    const broken = await runOnce(workDir, config, rsyslog);
    expect(broken.summary.errors.filter((e) => e.startsWith('PullError 301'))).toHaveLength(1);
    expect(broken.summary.errors.find((e) => e.startsWith('PullError'))).toMatch(/^PullError 301: Some error occurred while retrieving events from Darktrace server\. Error details: GET \/modelbreaches returned a body that is not JSON/);
    const healed = await runOnce(workDir, config, rsyslog);
    expect(healed.summary.errors).toEqual([]);
    expect(pbids(healed.delivered(TAGS.modelbreaches))).toEqual([late.pbid]);
  });

  it('override_base_url sends a service to another address than the instance', async () => {
    const start = hoursAgo(2);
    const elsewhere = await simulator({ breaches: { from: start, to: hoursAgo(1), everyMs: 10 * 60_000 } });
    const instance = await simulator({});
    const config = darktraceConfig(credentialsFor(instance), { modelbreaches: { start_time_in_utc_format: utc(start), override_base_url: elsewhere.url } });
    const { summary, delivered } = await runOnce(newWorkDir(), config, rsyslog);
    expect(summary.errors).toEqual([]);
    expect(delivered(TAGS.modelbreaches)).toHaveLength(elsewhere.breachesBetween(start, Date.now()).length);
    expect(instance.requests.some((r) => r.path === '/modelbreaches')).toBe(false);
  });

  it('a slot the instance is too slow to answer is split in halves instead of retried whole', async () => {
    const start = hoursAgo(2);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(1), everyMs: 3 * 60_000 } });
    sim.faults.inject({ kind: 'slow', delayMs: 2500, on: '/modelbreaches' });
    const config = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(start), request_timeout_in_seconds: 1 } });
    const { summary, delivered, logs } = await runOnce(newWorkDir(), config, rsyslog);
    expect(summary.errors).toEqual([]);
    expect(pbids(delivered(TAGS.modelbreaches))).toEqual(pbids(sim.breachesBetween(start, Date.now()) as never));
    expect(logs).toMatch(/The request for time slot >> .* timed out after 1 seconds; splitting it in two/);
    const first = sim.requests.filter((r) => r.path === '/modelbreaches').slice(0, 3).map((r) => new URL(r.target, 'http://x').searchParams);
    expect(Number(first[1]!.get('endtime')) - Number(first[1]!.get('starttime'))).toBe(HOUR / 2);
    expect(first[2]!.get('starttime')).toBe(first[1]!.get('endtime'));
  });

  it('keys a breach read as the text Darktrace sent (as pulled) as it keyed the parsed breach, so saved windows dedup after the upgrade', () => {
    const text = '[{"pbid":7,"time":1},{"time":2,"pbid":1.0e3},{"pbid":"s\\u00e9"},{"pbid":null},{"time":3}]';
    const response: HttpResponse = { status: 200, headers: {}, text, url: 'https://dt.example/modelbreaches', json: () => JSON.parse(text) as never };
    expect(jsonRecords(response, '', ['pbid']).records.map(modelBreachKey)).toEqual((JSON.parse(text) as unknown[]).map(modelBreachKey));
    expect((JSON.parse(text) as unknown[]).map(modelBreachKey)).toEqual(['7', '1000', 'sé', 'null', undefined]);
  });
});
