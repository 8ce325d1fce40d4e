import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CapturingOutput, startRsyslog, type Rsyslog } from '@collector/testkit';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, newWorkDir, runOnce, runtimeFor, simulator, TAGS, utc } from './helpers.js';

// --once runs deliver through the SDK's devo_platform output to a real rsyslog TLS receiver.
let rsyslog: Rsyslog;
beforeAll(async () => {
  rsyslog = await startRsyslog();
});
afterAll(async () => {
  await rsyslog?.stop();
});

afterEach(closeSimulators);

const ids = (events: Record<string, unknown>[]) => events.map((e) => e['id'] as string);

describe('aianalyst', () => {
  it('pulls incident events slot by slot, once each across restarts, including a late one', async () => {
    const start = hoursAgo(10);
    const sim = await simulator({ incidents: { from: start, to: hoursAgo(1), everyMs: 11 * 60_000 } });
    const workDir = newWorkDir();
    const config = darktraceConfig(credentialsFor(sim), { aianalyst: { start_time_in_utc_format: utc(start), override_time_window_interval_in_minutes: 120 } });
    const first = await runOnce(workDir, config, rsyslog);
    expect(first.summary.errors).toEqual([]);
    const truth = ids(sim.incidentsBetween(start, Date.now()) as never);
    expect(ids(first.delivered(TAGS.aianalyst))).toEqual(truth);
    expect(first.delivered(TAGS.aianalyst)[0]).toHaveProperty('incidentEventUrl');
    const requests = sim.requests.filter((r) => r.path === '/aianalyst/incidentevents');
    expect(requests).toHaveLength(6); // 10 h and a bit in 2 h slots
    expect(requests[0]!.target).toBe(`/aianalyst/incidentevents?starttime=${start.getTime()}&endtime=${start.getTime() + 2 * 3_600_000}&includeacknowledged=true&includeincidenteventurl=true`);

    const late = sim.addIncident(Date.now() - 30 * 60_000);
    const second = await runOnce(workDir, config, rsyslog);
    expect(ids(second.delivered(TAGS.aianalyst))).toEqual([late.id]);
    const third = await runOnce(workDir, config, rsyslog);
    expect(third.delivered(TAGS.aianalyst)).toHaveLength(0);
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
