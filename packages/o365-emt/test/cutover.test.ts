import { afterEach, describe, expect, it } from 'vitest';
import { runCollector } from '@collector/sdk/host';
import { captureCli } from '@collector/testkit';
import { o365EmtCollector, rwsReceivedMs } from '@collector/o365-emt';
import { closeAll, HOUR, makeConfig, runOnce, startSim, startTarget, tempDir, waitForEvents, type Target } from './helpers.js';

afterEach(closeAll);

const RWS = 'office365_exchange_message_service';
const GRAPH = 'office365_exchange_message_graph_service';
const LOOKBACK_S = 1800;

/** The collector's command line, as the README's steps run it. */
function cli(argv: string[], workDir: string, config: unknown, target: Target) {
  return captureCli((io) => runCollector(o365EmtCollector, { argv, workDir, config, outputs: target.outputs, ...io, handleSignals: false, http: { backoffBaseMs: 20 } }));
}

describe('README "Switching from Devo\'s collector"', () => {
  it('stop theirs, take their last savepoint, start ours with --start-at: no gap, overlap no more than the look-back', async () => {
    const now = Date.now();
    const sim = await startSim({ generate: { messages: 400, from: new Date(now - 27 * HOUR), to: new Date(now - HOUR), lateFraction: 0, maxRecipients: 2 } });
    // Devo's collector (here: the same RWS service and defaults, 25 h behind) ran up to now and is stopped.
    const theirs = await startTarget({ capture: true });
    const theirConfig = makeConfig(theirs, { services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url } } });
    const stopped = await runOnce(tempDir(), theirs, theirConfig, { startAt: undefined });
    expect(stopped.summary.errors).toEqual([]);
    const theirKeys = theirs.events().map((e) => `${e.event['MessageTraceId']}|${e.event['RecipientAddress']}`);
    const theirOldest = Math.min(...theirs.events().map((e) => rwsReceivedMs(e.event['Received'])!));

    // Step 2: the instant they had collected up to, from the last "Savepoint reached" line of their log.
    const savepoints = [...stopped.logs.matchAll(/Savepoint reached: Updating persistence with -> \{"start_time":"([^"]+)"/g)].map((m) => m[1]!);
    const instant = savepoints.at(-1)!;
    expect(Date.parse(instant)).toBeLessThanOrEqual(Date.now() - 25 * HOUR);

    // Step 3: ours (Graph, 1 h delay, 30 min look-back) with --start-at, to the real TLS receiver.
    const ours = await startTarget();
    const workDir = tempDir();
    const ourConfig = makeConfig(ours, {
      input: { requests_limits: [{ period: '1s', number_of_requests: 1000 }] },
      services: { [GRAPH]: { override_base_url: sim.url, override_base_auth_url: sim.url, override_time_delay_in_seconds: 3600, lookback_in_seconds: LOOKBACK_S } },
    });
    // Step 4 (before): --show-state says where it will start.
    const before = await cli(['--show-state', '--start-at', instant], workDir, ourConfig, ours);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout).services[0]).toEqual(expect.objectContaining({ service: GRAPH, state: 'none', start_at: instant }));

    const first = await cli(['--once', '--start-at', instant], workDir, ourConfig, ours);
    expect(first.code).toBe(0);
    expect(first.text).toContain(`No saved position: starting at --start-at ${instant} (minus the service's look-back) instead of the configured start`);
    const cutover = Date.parse(instant);
    const until = Math.max(...sim.requests.filter((r) => r.api === 'graph' && r.filter).map((r) => r.filter!.end));
    const wanted = sim.visibleRows(cutover - LOOKBACK_S * 1000, until);
    await waitForEvents(ours, wanted.length);
    const delivered = ours.events().map((e) => e.event);
    const received = delivered.map((e) => Date.parse(String(e['receivedDateTime'])));
    // Nothing older than T − look-back; everything from T − look-back to now − delay, once.
    expect(Math.min(...received)).toBeGreaterThanOrEqual(cutover - LOOKBACK_S * 1000);
    const ourKeys = delivered.map((e) => `${e['id']}|${e['recipientAddress']}`);
    expect([...ourKeys].sort()).toEqual(wanted.map((r) => `${r.messageTraceId}|${r.recipient}`).sort());
    // No gap: theirs and ours together hold every row from their oldest to our newest.
    const together = new Set([...theirKeys, ...ourKeys]);
    for (const row of sim.visibleRows(theirOldest, until)) expect(together.has(`${row.messageTraceId}|${row.recipient}`)).toBe(true);
    // The overlap (rows both sent) is the look-back and nothing more.
    const theirSet = new Set(theirKeys);
    const twice = sim.visibleRows(theirOldest, until).filter((r) => theirSet.has(`${r.messageTraceId}|${r.recipient}`) && ourKeys.includes(`${r.messageTraceId}|${r.recipient}`));
    expect(twice.length).toBeGreaterThan(0);
    expect(twice.every((r) => r.received >= cutover - LOOKBACK_S * 1000 && r.received <= cutover)).toBe(true);

    // The flag left on the command line (a container's args): the saved position wins, nothing is re-sent.
    const again = await cli(['--once', '--start-at', instant], workDir, ourConfig, ours);
    expect(again.code).toBe(0);
    expect(again.text).toContain(`--start-at ${instant} is ignored: this service has a saved position and resumes from it`);
    const after = await cli(['--show-state'], workDir, ourConfig, ours);
    expect(JSON.parse(after.stdout).services[0]).toEqual(expect.objectContaining({ state: 'found', starts: "from the saved position (checkpoint_time minus the service's look-back)" }));
    await new Promise((r) => setTimeout(r, 300));
    expect(ours.events()).toHaveLength(wanted.length);
  });
});
