import { afterEach, describe, expect, it } from 'vitest';
import { missingLogLines } from '@collector/testkit';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, newWorkDir, runOnce, simulator, utc } from './helpers.js';

afterEach(closeSimulators);

/** Lines of Devo's Darktrace manual (its example logs) that operators grep for, as printed there. */
const MANUAL_LINES = [
  'INFO InputProcess::CollectorDarktracePullerSetup(…) -> Starting the execution of setup()',
  'INFO InputProcess::CollectorDarktracePullerSetup(…) -> Tokens have been validated successfully.',
  'INFO InputProcess::CollectorDarktracePullerSetup(…) -> Finalizing the execution of setup()',
  'INFO InputProcess::CollectorDarktracePullerSetup(…) -> Setup for module <CollectorDarktracePuller> has been successfully executed',
  'INFO InputProcess::CollectorDarktracePuller(darktrace,darktrace_respond,modelbreaches,predefined) -> Pull Started',
  'INFO InputProcess::CollectorDarktracePuller(darktrace,darktrace_respond,modelbreaches,predefined) -> Starting a new pulling from darktrace at "2023-03-27T10:52:12.289241+00:00"',
  'INFO InputProcess::CollectorDarktracePuller(darktrace,darktrace_respond,modelbreaches,predefined) -> Total number of time slots to be processed: 58',
  'INFO InputProcess::CollectorDarktracePuller(darktrace,darktrace_respond,modelbreaches,predefined) -> Number of events received for time slot >> 2023-03-25 00:00:00+00:00 - 2023-03-25 01:00:00+00:00 is: 2',
  'INFO InputProcess::CollectorDarktracePuller(darktrace,darktrace_respond,modelbreaches,predefined) -> Number of processed time slots so far: 12',
  'INFO InputProcess::CollectorDarktracePuller(darktrace,darktrace_respond,modelbreaches,predefined) -> The data is up to date!',
  'INFO InputProcess::CollectorDarktracePuller(darktrace,darktrace_respond,modelbreaches,predefined) -> Statistics for this pull cycle (@devo_pulling_id=1731996199949):Number of requests made: 1; Number of events received: 1; Number of duplicated events filtered out: 0; Number of events generated and sent: 1; Average of events per second: 1.179.',
  'INFO InputProcess::StatelessServicePuller(darktrace,darktrace_respond,summarystatistics,predefined) -> Pull Started',
  'INFO InputProcess::StatelessServicePuller(darktrace,darktrace_respond,summarystatistics,predefined) -> (Partial) Statistics for this pull cycle (@devo_pulling_id=1731996199949):Number of requests made: 1; Number of events received: 1; Number of duplicated events filtered out: 0; Number of events generated and sent: 1; Average of events per second: 1.180.',
  'INFO InputProcess::StatelessServicePuller(darktrace,darktrace_respond,summarystatistics,predefined) -> Statistics for this pull cycle (@devo_pulling_id=1731996199949):Number of requests made: 1; Number of events received: 1; Number of duplicated events filtered out: 0; Number of events generated and sent: 1; Average of events per second: 1.179.',
];

describe('darktrace: log lines as the manual prints them', () => {
  it('a catch-up of more than 12 one-hour slots and a summary statistics snapshot print the manual lines', async () => {
    const start = hoursAgo(14);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(1), everyMs: 50 * 60_000 } });
    const config = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(start), override_time_window_interval_in_minutes: 60 }, summarystatistics: {} });
    const { summary, logs } = await runOnce(newWorkDir(), config);
    expect(summary.errors).toEqual([]);
    expect(missingLogLines(logs, MANUAL_LINES)).toEqual([]);
  });
});
