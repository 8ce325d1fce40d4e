import { afterEach, describe, expect, it } from 'vitest';
import { runCollector } from '@collector/sdk/host';
import { darktraceCollector } from '@collector/darktrace';
import { captureCli, devoOutputConfig, parseReceivedEvents, waitForReceivedEvents } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, HOUR, newWorkDir, simulator, TAGS, utc } from './helpers.js';

// README "Switching from Devo's collector", followed step by step through the command line.
const rsyslog = useRsyslog();
afterEach(closeSimulators);

async function cli(argv: string[], workDir: string, config: Record<string, unknown>) {
  const from = rsyslog.lines().length;
  return { ...(await captureCli((io) => runCollector(darktraceCollector, { argv, workDir, config: { ...config, outputs: devoOutputConfig(rsyslog) }, ...io, handleSignals: false, http: { backoffBaseMs: 1, maxBackoffMs: 5 } }))), from };
}

describe("README: switching from Devo's Darktrace collector", () => {
  it('stop theirs, note the time, start ours with --start-at: every breach from the time minus the look-back, nothing older, once', async () => {
    const sim = await simulator({ breaches: { from: hoursAgo(10), to: hoursAgo(1), everyMs: 7 * 60_000 } });
    const stoppedAt = new Date(Math.floor((Date.now() - 3 * HOUR - 17 * 60_000) / 1000) * 1000);
    const T = utc(stoppedAt);
    const config = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(hoursAgo(9)) } });
    const workDir = newWorkDir();

    const shown = await cli(['--show-state', '--start-at', T], workDir, config);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).services.find((s: Record<string, unknown>) => s['service'] === 'modelbreaches')).toEqual(expect.objectContaining({ state: 'none', start_at: T }));

    const first = await cli(['--once', '--start-at', T], workDir, config);
    expect(first.code).toBe(0);
    expect(first.text).toContain(`No saved position: starting at --start-at ${T}`);
    const from = stoppedAt.getTime() - 60 * 60_000; // lookback_in_minutes, default 60
    const expected = sim.breachesBetween(from, Date.now()).map((b) => b.pbid);
    const received = (await waitForReceivedEvents(rsyslog, first.from, expected.length)).filter((l) => l.tag === TAGS.modelbreaches);
    expect(received.map((l) => l.event['pbid'])).toEqual(expected);
    expect(Math.min(...received.map((l) => Number(l.event['creationTime'])))).toBeGreaterThanOrEqual(from);
    expect(sim.breachesBetween(hoursAgo(9), from).length).toBeGreaterThan(0);

    const again = await cli(['--once', '--start-at', T], workDir, config);
    expect(again.code).toBe(0);
    expect(again.text).toContain(`--start-at ${T} is ignored: this service has a saved position and resumes from it`);
    await new Promise((r) => setTimeout(r, 300));
    expect(parseReceivedEvents(rsyslog.lines().slice(again.from)).filter((l) => l.tag === TAGS.modelbreaches)).toEqual([]);
  });
});
