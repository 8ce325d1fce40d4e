import { afterEach, describe, expect, it } from 'vitest';
import { useRsyslog } from '@collector/testkit/vitest';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, newWorkDir, runOnce, simulator, TAGS, utc } from './helpers.js';

const rsyslog = useRsyslog();

afterEach(closeSimulators);

const codes = (events: Record<string, unknown>[]) => events.map((e) => e['codeid'] as number).sort((a, b) => a - b);
const TAG = TAGS.antigena;

describe('antigena', () => {
  it('collects every action once, and again only when its state changed (confirmed, extended, cleared, expired)', async () => {
    const sim = await simulator();
    const active = sim.addAction();
    const pending = sim.addAction({ active: false });
    // Runs out after the first two runs (15 s leaves room for a loaded machine), unchanged otherwise.
    const soon = sim.addAction({ expires: Date.now() + 15_000 });
    const cleared = sim.addAction({ cleared: true, active: false });
    const workDir = newWorkDir();
    const config = darktraceConfig(credentialsFor(sim), { antigena: { start_time_in_utc_format: utc(hoursAgo(2)) } });

    const first = await runOnce(workDir, config, rsyslog);
    expect(first.summary.errors).toEqual([]);
    // Cleared actions too (includecleared=true): each action once although the slots and the snapshot both read it.
    expect(codes(first.delivered(TAG))).toEqual([active.codeid, pending.codeid, soon.codeid, cleared.codeid]);
    const snapshot = sim.requests.filter((r) => r.path === '/antigena').at(-1)!;
    expect(snapshot.target).toBe('/antigena?includecleared=true&includehistory=false');

    const unchanged = await runOnce(workDir, config, rsyslog);
    expect(unchanged.delivered(TAG)).toHaveLength(0);

    // The pending action is confirmed, the active one extended; the short one runs out meanwhile.
    sim.updateAction(pending.codeid, { active: true });
    const extended = sim.updateAction(active.codeid, { expires: active.expires + 3_600_000 });
    while (Date.now() <= soon.expires) await new Promise((r) => setTimeout(r, 100));
    const changed = await runOnce(workDir, config, rsyslog);
    expect(codes(changed.delivered(TAG))).toEqual([active.codeid, pending.codeid, soon.codeid]);
    expect(changed.delivered(TAG).find((a) => a['codeid'] === active.codeid)!['expires']).toBe(extended.expires);
    expect(changed.delivered(TAG).find((a) => a['codeid'] === pending.codeid)!['active']).toBe(true);

    sim.updateAction(active.codeid, { cleared: true, active: false });
    const clearedNow = await runOnce(workDir, config, rsyslog);
    expect(clearedNow.delivered(TAG)).toMatchObject([{ codeid: active.codeid, cleared: true, active: false }]);

    const quiet = await runOnce(workDir, config, rsyslog);
    expect(quiet.delivered(TAG)).toHaveLength(0);
  });

  it('reads the {"actions": [...]} form as well, and history from the configured start through the time slots', async () => {
    const sim = await simulator({ antigenaWrapped: true });
    // An action that started 30 h ago and ended 29 h ago: older than the snapshot's 14 days? No, but only the
    // slots (selecting on start) and the snapshot both see it; it must still arrive once.
    const past = sim.addAction({ start: Date.now() - 30 * 3_600_000, expires: Date.now() - 29 * 3_600_000 });
    const { summary, delivered } = await runOnce(newWorkDir(), darktraceConfig(credentialsFor(sim), { antigena: { start_time_in_utc_format: utc(hoursAgo(31)) } }), rsyslog);
    expect(summary.errors).toEqual([]);
    expect(codes(delivered(TAG))).toEqual([past.codeid]);
    expect(sim.requests.filter((r) => r.path === '/antigena' && r.target.includes('starttime=')).length).toBeGreaterThanOrEqual(31);
  });
});
