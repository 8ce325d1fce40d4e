import { afterEach, describe, expect, it, vi } from 'vitest';
import { missingLogLines } from '@collector/testkit';
import { HOUR_MS, closeAll, isoSecondsAgo, larkConfig, runOnce, simulator, workDir } from './helpers.js';

afterEach(closeAll);
afterEach(() => vi.restoreAllMocks());

/** Lines of Devo's Lark manual (its example log) that operators grep for, as printed there. */
const MANUAL_LINES = [
  'INFO InputProcess::LarkBasePullerSetup(lark_collector,lark#964383,audit_infos#predefined) -> Successfully generated auth token for Lark API',
  'INFO InputProcess::LarkBasePullerSetup(lark_collector,lark#964383,audit_infos#predefined) -> Remote source is pullable',
  'INFO InputProcess::LarkBasePullerSetup(lark_collector,lark#964383,audit_infos#predefined) -> Setup for module <LarkBasePuller> has been successfully executed',
  'INFO InputProcess::LarkBasePuller(lark,964383,audit_infos,predefined) -> Pull Started',
  'INFO InputProcess::LarkBasePuller(lark,964383,audit_infos,predefined) -> Retrieved 50 audit_infos event(s)',
  'INFO InputProcess::LarkBasePuller(lark,964383,audit_infos,predefined) -> Sent 50 events',
  'INFO InputProcess::LarkBasePuller(lark,964383,audit_infos,predefined) -> (Partial) Statistics for this pull cycle (@devo_pulling_id=1719197345217):Number of requests made: 1; Number of events received: 1; Number of duplicated events filtered out: 0; Number of events generated and sent: 1; Average of events per second: 0.414.',
];

/** The manual's internal log lines as the console sender prints them (the collector's own lines, as JSON). */
const MANUAL_INTERNAL_LINES = [
  'INFO OutputProcess::ConsoleSender(internal_senders,console_sender_0) -> {"message_timestamp": "2024-06-24 02:45:25.789", "message_tag": "devo.collectors.out.local.info", "message_content": "{\\"msg\\": \\"Pull Started\\", \\"time\\": \\"2024-06-24T02:45:25.789572Z\\", \\"level\\": \\"info\\", \\"collector_name\\": \\"lark_collector\\", \\"collector_version\\": \\"1.0.0\\", \\"collector_image\\": null, \\"job_id\\": \\"not_used\\", \\"input_name\\": \\"lark\\", \\"service_name\\": \\"audit_infos\\", \\"module_name\\": \\"LarkBasePuller\\"}"}',
  'INFO OutputProcess::ConsoleSender(internal_senders,console_sender_0) -> {"message_timestamp": "2024-06-24 02:40:00.213", "message_tag": "devo.collectors.out.local.info", "message_content": "{\\"msg\\": \\"Successfully generated auth token for Lark API\\", \\"time\\": \\"2024-06-24T02:40:00.213215Z\\", \\"level\\": \\"info\\", \\"collector_name\\": \\"lark_collector\\", \\"collector_version\\": \\"1.0.0\\", \\"collector_image\\": null, \\"job_id\\": \\"not_used\\", \\"input_name\\": \\"lark\\", \\"service_name\\": \\"audit_infos\\", \\"module_name\\": \\"LarkBasePuller\\"}"}',
];

describe('lark: log lines as the manual prints them', () => {
  it('a pull prints the manual lines operators grep for, and the console sender prints its internal lines with the manual fields', async () => {
    const sim = await simulator({ generate: { count: 50, from: new Date(Date.now() - 2 * HOUR_MS), to: new Date(Date.now() - 60_000) } });
    let stdout = '';
    const write = process.stdout.write.bind(process.stdout);
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk);
      if (!text.includes('"message_timestamp"')) return write(chunk, ...(rest as []));
      stdout += text;
      return true;
    });
    const config = { ...larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(3 * HOUR_MS) }), outputs: { console_1: { type: 'console' } } };
    const { summary, logs } = await runOnce(workDir(), config);
    expect(summary.errors).toEqual([]);
    expect(missingLogLines(logs, MANUAL_LINES)).toEqual([]);
    expect(missingLogLines(stdout, MANUAL_INTERNAL_LINES)).toEqual([]);
  });
});
