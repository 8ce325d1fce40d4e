import { afterEach, describe, expect, it } from 'vitest';
import { runCollector } from '@collector/sdk/host';
import { larkCollector } from '@collector/lark';
import { captureCli, devoOutputConfig, parseReceivedEvents, waitForReceivedEvents } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';
import { closeAll, HOUR_MS, isoSecondsAgo, larkConfig, simulator, workDir } from './helpers.js';

// README "Switching from Devo's collector", followed step by step through the command line.
const rsyslog = useRsyslog();
afterEach(closeAll);

async function cli(argv: string[], dir: string, config: Record<string, unknown>) {
  const from = rsyslog.lines().length;
  return { ...(await captureCli((io) => runCollector(larkCollector, { argv, workDir: dir, config: { ...config, outputs: devoOutputConfig(rsyslog) }, ...io, handleSignals: false }))), from };
}

describe("README: switching from Devo's Lark collector", () => {
  it('stop theirs, note the time, start ours with --start-at: everything from the time minus the look-back, nothing older, once', async () => {
    const sim = await simulator({ generate: { count: 600, from: new Date(Date.now() - 10 * HOUR_MS), to: new Date(Date.now() - 1000) } });
    // Theirs was stopped three hours ago; its configured start (nine hours back) is what ours would re-pull.
    const stoppedAt = isoSecondsAgo(3 * HOUR_MS);
    const config = larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(9 * HOUR_MS) });
    const dir = workDir();

    const shown = await cli(['--show-state', '--start-at', stoppedAt], dir, config);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).services[0]).toEqual(expect.objectContaining({ service: 'audit_infos', state: 'none', start_at: stoppedAt }));

    const first = await cli(['--once', '--start-at', stoppedAt], dir, config);
    expect(first.code).toBe(0);
    expect(first.text).toContain(`No saved position: starting at --start-at ${stoppedAt}`);
    const from = Date.parse(stoppedAt) / 1000 - 300; // lookback_in_seconds, default 300
    const expected = sim.eventsBetween(from, Math.floor(Date.now() / 1000)).map((e) => String(e.unique_id));
    const received = await waitForReceivedEvents(rsyslog, first.from, expected.length);
    const ids = received.filter((r) => r.tag === 'app.lark.audit.event').map((r) => String(r.event['unique_id']));
    expect(ids.sort()).toEqual([...expected].sort());
    expect(Math.min(...received.map((r) => Number(r.event['event_time'])))).toBeGreaterThanOrEqual(from);
    expect(sim.events.some((e) => e.event_time < from)).toBe(true);

    const again = await cli(['--once', '--start-at', stoppedAt], dir, config);
    expect(again.code).toBe(0);
    expect(again.text).toContain(`--start-at ${stoppedAt} is ignored: this service has a saved position and resumes from it`);
    await new Promise((r) => setTimeout(r, 300));
    expect(parseReceivedEvents(rsyslog.lines().slice(again.from)).filter((r) => r.tag === 'app.lark.audit.event')).toEqual([]);
  });
});
