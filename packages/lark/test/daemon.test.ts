import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime } from '@collector/sdk/host';
import { makeLarkAuditInfo } from '@collector/simulators';
import { larkCollector } from '@collector/lark';
import { CapturingOutput, waitUntil } from '@collector/testkit';
import { HOUR_MS, closeAll, isoSecondsAgo, larkConfig, simulator, workDir } from './helpers.js';

afterEach(closeAll);

const until = (condition: () => boolean) => waitUntil(condition, { timeoutMs: 15_000 });

describe('daemon mode', () => {
  it('keeps pulling every request_period_in_seconds with one token, sends new events once, and stops cleanly', async () => {
    const sim = await simulator({ generate: { count: 300, from: new Date(Date.now() - HOUR_MS), to: new Date(Date.now() - 1000) } });
    const output = new CapturingOutput();
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (chunk) => (logText += chunk));
    const config = larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(2 * HOUR_MS), request_period_in_seconds: 1 });
    const runtime = new CollectorRuntime(larkCollector, { workDir: workDir(), config, outputs: [output], logStream: logs });
    const running = runtime.run();
    try {
      await until(() => output.events().length >= 300);
      sim.addEvents(makeLarkAuditInfo({ uniqueId: 'arrives-later', eventTime: Math.floor(Date.now() / 1000) - 5 }));
      await until(() => output.ids('unique_id').includes('arrives-later'));
      // Let one more cycle re-read the look-back: nothing may come twice.
      const cycles = () => (logText.match(/Statistics for this pull cycle/g) ?? []).length;
      const seen = cycles();
      await until(() => cycles() >= seen + 1);
    } finally {
      await runtime.stop();
      await running;
    }
    const ids = output.ids('unique_id');
    expect(ids).toHaveLength(301);
    expect(new Set(ids).size).toBe(301);
    expect(sim.tokensIssued).toBe(1);
    expect(logText).toContain('Starting data collection every 1 seconds');
  });
});
