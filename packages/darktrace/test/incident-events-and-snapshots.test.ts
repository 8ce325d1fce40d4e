import { afterEach, describe, expect, it } from 'vitest';
import { CapturingOutput } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, HOUR, newWorkDir, runOnce, runtimeFor, simulator, TAGS, utc } from './helpers.js';

// --once runs deliver through the SDK's devo_platform output to a real rsyslog TLS receiver.
const rsyslog = useRsyslog();

afterEach(closeSimulators);

const ids = (events: Record<string, unknown>[]) => events.map((e) => e['id'] as string);
const TAG = TAGS.aianalyst_incidentevents;

describe('aianalyst_incidentevents', () => {
  it('pulls incident events slot by slot, once each across restarts, including a late one', async () => {
    const start = hoursAgo(10);
    const sim = await simulator({ incidents: { from: start, to: hoursAgo(1), everyMs: 11 * 60_000 } });
    const workDir = newWorkDir();
    const config = darktraceConfig(credentialsFor(sim), { aianalyst_incidentevents: { start_time_in_utc_format: utc(start), override_time_window_interval_in_minutes: 120 } });
    const first = await runOnce(workDir, config, rsyslog);
    expect(first.summary.errors).toEqual([]);
    const truth = ids(sim.incidentsBetween(start, Date.now()) as never);
    expect(ids(first.delivered(TAG))).toEqual(truth);
    expect(first.delivered(TAG)[0]).toHaveProperty('incidentEventUrl');
    const requests = sim.requests.filter((r) => r.path === '/aianalyst/incidentevents');
    expect(requests).toHaveLength(6); // 10 h and a bit in 2 h slots
    expect(requests[0]!.target).toBe(`/aianalyst/incidentevents?starttime=${start.getTime()}&endtime=${start.getTime() + 2 * 3_600_000}&includeacknowledged=true&includeincidenteventurl=true`);

    const late = sim.addIncident(Date.now() - 30 * 60_000);
    const second = await runOnce(workDir, config, rsyslog);
    expect(ids(second.delivered(TAG))).toEqual([late.id]);
    const third = await runOnce(workDir, config, rsyslog);
    expect(third.delivered(TAG)).toHaveLength(0);
    expect(third.summary.services.find((s) => s.service === 'aianalyst_incidentevents')!.duplicates).toBeGreaterThan(0);
  });

  it('re-reads a day in one request: an event updated after it was read arrives again with the update, an unchanged one never twice', async () => {
    const start = hoursAgo(30);
    const sim = await simulator({ incidents: { from: start, to: hoursAgo(1), everyMs: 37 * 60_000 } });
    const workDir = newWorkDir();
    const config = darktraceConfig(credentialsFor(sim), { aianalyst_incidentevents: { start_time_in_utc_format: utc(start) } });
    const first = await runOnce(workDir, config, rsyslog);
    const all = first.delivered(TAG);
    expect(all.length).toBeGreaterThan(25);
    // Darktrace acknowledges one event and regroups and re-scores another, hours after creating them.
    const old = all[all.length - 3]!;
    const older = all.find((e) => Number(e['createdAt']) > Date.now() - 20 * HOUR)!;
    const acknowledged = sim.updateIncident(old['id'] as string, { acknowledged: !old['acknowledged'] });
    const regrouped = sim.updateIncident(older['id'] as string, { currentGroup: 'g-merged-0001', groupScore: 88.5, aiaScore: 97 });
    const before = sim.requests.length;
    // A new slot needs at least a second past the checkpoint (the SDK's smallest window): on a fast machine
    // the second run would otherwise start within it and read the re-read only.
    await new Promise((r) => setTimeout(r, 1100));
    const second = await runOnce(workDir, config, rsyslog);
    expect(second.summary.errors).toEqual([]);
    // The event 20 h back lies inside the default one-day look-back: both updates arrive, nothing else.
    expect(second.delivered(TAG).map((e) => e['id']).sort()).toEqual([acknowledged.id, regrouped.id].sort());
    const again = second.delivered(TAG).find((e) => e['id'] === regrouped.id)!;
    expect(again).toMatchObject({ currentGroup: 'g-merged-0001', groupScore: 88.5, aiaScore: 97, createdAt: older['createdAt'] });
    expect(second.delivered(TAG).find((e) => e['id'] === acknowledged.id)!['acknowledged']).toBe(!old['acknowledged']);
    // One request re-reads the day before the checkpoint; one more reads what is new.
    const reads = sim.requests.slice(before).filter((r) => r.path === '/aianalyst/incidentevents').map((r) => new URL(r.target, 'http://x').searchParams);
    expect(reads).toHaveLength(2);
    expect(Number(reads[0]!.get('endtime')) - Number(reads[0]!.get('starttime'))).toBe(24 * HOUR);

    // Nothing changed since: a third run re-reads the day and sends nothing, not even the updated events.
    const third = await runOnce(workDir, config, rsyslog);
    expect(third.delivered(TAG)).toHaveLength(0);
  });

  it('the old name aianalyst still works, with a one-line deprecation warning; both names at once are an error', async () => {
    const start = hoursAgo(3);
    const sim = await simulator({ incidents: { from: start, to: hoursAgo(1), everyMs: 17 * 60_000 } });
    const old = await runOnce(newWorkDir(), darktraceConfig(credentialsFor(sim), { aianalyst: { start_time_in_utc_format: utc(start) } }), rsyslog);
    expect(old.summary.errors).toEqual([]);
    expect(ids(old.delivered(TAG))).toEqual(ids(sim.incidentsBetween(start, Date.now()) as never));
    const warnings = old.logs.split('\n').filter((l) => l.includes('deprecated'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/WARNING .*Service <aianalyst> is deprecated: it is the old name of <aianalyst_incidentevents>, which it runs; rename it in the configuration$/);

    const both = darktraceConfig(credentialsFor(sim), { aianalyst: {}, aianalyst_incidentevents: {} });
    await expect(runtimeFor(newWorkDir(), both).runtime.validate()).rejects.toThrow(
      /<aianalyst> is the old name of <aianalyst_incidentevents>, which is configured too; keep only <aianalyst_incidentevents>/,
    );
  });
});

describe('summarystatistics', () => {
  it('sends one snapshot per pull and keeps no checkpoint', async () => {
    const sim = await simulator({ breaches: { from: hoursAgo(3), to: hoursAgo(1), everyMs: 30 * 60_000 } });
    const workDir = newWorkDir();
    const config = darktraceConfig(credentialsFor(sim), { summarystatistics: {} });
    const a = await runOnce(workDir, config, rsyslog);
    const b = await runOnce(workDir, config, rsyslog);
    const snapshots = [...a.delivered(TAGS.summarystatistics), ...b.delivered(TAGS.summarystatistics)];
    expect(snapshots.map((s) => s['snapshot'])).toEqual([1, 2]);
    expect(snapshots[0]!['@devo_pulling_id']).not.toBe(snapshots[1]!['@devo_pulling_id']);
    expect(a.logs).toMatch(/StatelessServicePuller\(darktrace,darktrace_respond,summarystatistics,predefined\) -> Statistics for this pull cycle \(@devo_pulling_id=\d+\):Number of requests made: \d+; Number of events received: 1; Number of duplicated events filtered out: 0; Number of events generated and sent: 1;/);
  });

  it('as a daemon, exactly one snapshot arrives per request period', async () => {
    const sim = await simulator();
    const out = new CapturingOutput();
    const { runtime } = runtimeFor(newWorkDir(), darktraceConfig(credentialsFor(sim), { summarystatistics: { request_period_in_seconds: 1 } }), [out]);
    const running = runtime.run();
    while (out.events(TAGS.summarystatistics).length < 3) await new Promise((r) => setTimeout(r, 50));
    await runtime.stop();
    await running;
    const snapshots = out.events(TAGS.summarystatistics);
    const pulls = new Set(snapshots.map((s) => s['@devo_pulling_id']));
    // One event per pull cycle, one request per snapshot, nothing replayed.
    expect(pulls.size).toBe(snapshots.length);
    expect(snapshots.length).toBe(sim.snapshotsServed);
    expect(snapshots.map((s) => s['snapshot'])).toEqual(snapshots.map((_, i) => i + 1));
  });
});

describe('status', () => {
  it('sends one snapshot of /status per pull, as returned; flatten: true joins nested keys with _', async () => {
    const sim = await simulator();
    const plain = await runOnce(newWorkDir(), darktraceConfig(credentialsFor(sim), { status: {} }), rsyslog);
    expect(plain.summary.errors).toEqual([]);
    const [doc] = plain.delivered(TAGS.status);
    expect(plain.delivered(TAGS.status)).toHaveLength(1);
    expect(doc).toMatchObject({ hostname: 'dt-simulator', networkInterfacesState_eth0: 'up', licenseCounts: { saas: 12, network: 512 } });
    expect(doc!['probes']).toMatchObject({ '12': { version: '6.1.20', ipAddress: '10.0.0.12' } });
    expect(sim.requests.filter((r) => r.path === '/status').map((r) => r.target)).toContain('/status?includechildren=true');

    const flat = await runOnce(newWorkDir(), darktraceConfig(credentialsFor(sim), { status: { flatten: true, includechildren: true } }), rsyslog);
    const [flattened] = flat.delivered(TAGS.status);
    expect(flattened).toMatchObject({ hostname: 'dt-simulator', licenseCounts_saas: 12, licenseCounts_network: 512, probes_12_version: '6.1.20', probes_12_error: false });
    expect(Object.values(flattened!).some((v) => v !== null && typeof v === 'object')).toBe(false);

    const bad = darktraceConfig(credentialsFor(sim), { status: { flatten: 'yes' } });
    await expect(runtimeFor(newWorkDir(), bad).runtime.validate()).rejects.toMatchObject({ type: 'InitVariablesError', id: 40, path: 'inputs.darktrace.services.status.flatten' });
  });
});
