import { afterEach, describe, expect, it } from 'vitest';
import { missingLogLines } from '@collector/testkit';
import { closeAll, config, DAY, HOUR, isoAgo, runOnce, simulator, workDir } from './helpers.js';

afterEach(closeAll);

/** Lines of Devo's Proofpoint TAP manual (its example log) that operators grep for, as printed there. */
const MANUAL_LINES = [
  'WARNING InputProcess::ProofPointPullerSetup(proofpoint_tap_collector,proofpoint_tap#123456,messagesBlocked#predefined) -> The token/header/authentication has not been created yet',
  'INFO InputProcess::ProofPointPullerSetup(proofpoint_tap_collector,proofpoint_tap#123456,messagesBlocked#predefined) -> Setup for module <ProofPointPuller> has been successfully executed',
  'INFO InputProcess::ProofPointPuller(proofpoint_tap,123456,messagesBlocked,predefined) -> Pull Started',
  'INFO InputProcess::ProofPointPuller(proofpoint_tap,123456,messagesBlocked,predefined) -> Time Window FROM: 2023-12-19 04:35:36.946633+00:00 TO: 2023-12-19 05:35:36.946633+00:00',
  'WARNING InputProcess::ProofPointPuller(proofpoint_tap,123456,messagesBlocked,predefined) -> Start_Time_in_utc must be at most 7.00d into the past, Changing the time startTime to be in the specified time',
  'INFO InputProcess::ProofPointPuller(proofpoint_tap,123456,messagesBlocked,predefined) -> (Partial) Statistics for this pull cycle (@devo_pulling_id=1703561736946):Number of requests made: 4; Number of events received: 1; Number of duplicated events filtered out: 0; Number of events generated and sent: 1; Average of events per second: 0.105.',
  'INFO InputProcess::ProofPointPuller(proofpoint_tap,123456,messagesBlocked,predefined) -> Statistics for this pull cycle (@devo_pulling_id=1703561736946):Number of requests made: 4; Number of events received: 1; Number of duplicated events filtered out: 0; Number of events generated and sent: 1; Average of events per second: 0.105.',
];

describe('proofpoint_tap: log lines as the manual prints them', () => {
  it('a pull from a start older than 7 days prints the manual lines operators grep for', async () => {
    const sim = await simulator();
    sim.generate({ service: 'messagesBlocked', count: 3, from: Date.now() - 3 * HOUR, to: Date.now() - 10 * 60_000, seed: 7 });
    const { summary, logs } = await runOnce(workDir(), config(sim, { services: { messagesBlocked: { start_time_in_utc_format: isoAgo(8 * DAY) } } }));
    expect(summary.errors.join(' | ')).toBe('');
    expect(missingLogLines(logs, MANUAL_LINES)).toEqual([]);
    // As in the manual, every window's request is followed by its progress line once the window is committed.
    const count = (text: string) => logs.split('\n').filter((l) => l.includes(text)).length;
    expect(count('Time Window FROM:')).toBeGreaterThan(100);
    expect(count('(Partial) Statistics for this pull cycle')).toBe(count('Time Window FROM:'));
  });
});
