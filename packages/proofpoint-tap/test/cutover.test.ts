import { afterEach, describe, expect, it } from 'vitest';
import { runCollector } from '@collector/sdk/host';
import { proofpointCreationTime } from '@collector/simulators';
import { captureCli, devoOutputConfig, parseReceivedEvents, waitForReceivedEvents } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';
import { proofpointTapCollector } from '../src/index.js';
import { closeAll, config, HOUR, isoAgo, SERVICES, simulator, workDir } from './helpers.js';

// README "Switching from Devo's collector", followed step by step through the command line.
const rsyslog = useRsyslog();
afterEach(closeAll);

async function cli(argv: string[], dir: string, cfg: Record<string, unknown>) {
  const from = rsyslog.lines().length;
  return { ...(await captureCli((io) => runCollector(proofpointTapCollector, { argv, workDir: dir, config: { ...cfg, outputs: devoOutputConfig(rsyslog) }, ...io, handleSignals: false }))), from };
}

describe("README: switching from Devo's Proofpoint TAP collector", () => {
  it('stop theirs, note the time, start ours with --start-at: every record from the time minus the look-back, nothing older, once', async () => {
    const sim = await simulator();
    for (const [i, service] of SERVICES.entries()) sim.generate({ service, count: 40, from: Date.now() - 10 * HOUR, to: Date.now() - 5 * 60_000, recipientsPerMessage: 2, seed: 60 + i });
    // Theirs stopped three hours ago; the configured start (nine hours back) is what ours would re-pull.
    const stoppedAt = isoAgo(3 * HOUR);
    const cfg = config(sim, { common: { start_time_in_utc_format: isoAgo(9 * HOUR) } });
    const dir = workDir();

    const shown = await cli(['--show-state', '--start-at', stoppedAt], dir, cfg);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).services.map((s: Record<string, unknown>) => s['start_at'])).toEqual(SERVICES.map(() => stoppedAt));

    const first = await cli(['--once', '--start-at', stoppedAt], dir, cfg);
    expect(first.code).toBe(0);
    expect(first.text).toContain(`No saved position: starting at --start-at ${stoppedAt}`);
    const from = Date.parse(stoppedAt) - 1800 * 1000; // lookback_in_seconds, default 1800
    const expected = SERVICES.flatMap((service) => sim.events(service).filter((e) => proofpointCreationTime(e) >= from).map((e) => `${service}|${String(e['id'])}`)).sort();
    const received = await waitForReceivedEvents(rsyslog, first.from, expected.length);
    const keys = received.map((l) => `${SERVICES.find((s) => l.tag === `mail.proofpoint.tapsiem_v2.${s.toLowerCase()}`)}|${String(l.event['id'])}`).sort();
    expect(keys).toEqual(expected);
    expect(SERVICES.some((s) => sim.events(s).some((e) => proofpointCreationTime(e) < from))).toBe(true);

    const again = await cli(['--once', '--start-at', stoppedAt], dir, cfg);
    expect(again.code).toBe(0);
    expect(again.text).toContain(`--start-at ${stoppedAt} is ignored: this service has a saved position and resumes from it`);
    await new Promise((r) => setTimeout(r, 300));
    expect(parseReceivedEvents(rsyslog.lines().slice(again.from))).toEqual([]);
  });
});
