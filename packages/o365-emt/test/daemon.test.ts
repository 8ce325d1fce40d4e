import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime } from '@collector/sdk/host';
import { generateO365Traces } from '@collector/simulators';
import { o365EmtCollector } from '@collector/o365-emt';
import { waitUntil } from '@collector/testkit';
import { BACKFILL, closeAll, DAY, HOUR, makeConfig, secretsIn, startSimAndTarget, tempDir } from './helpers.js';

afterEach(closeAll);

const until = (condition: () => boolean) => waitUntil(condition, { timeoutMs: 20_000 });

describe('daemon mode', () => {
  it('runs both services side by side with one token each, keeps pulling new Graph rows, and stops cleanly', async () => {
    const now = Date.now();
    const { sim, target } = await startSimAndTarget({ generate: { messages: 200, from: new Date(now - 3 * DAY), to: new Date(now - 2 * HOUR), lateFraction: 0 } }, true);
    const stream = new PassThrough();
    let logs = '';
    stream.on('data', (d) => (logs += d));
    const config = makeConfig(target, {
      input: { max_historic_date_cutoff_days_back: 2, requests_limits: [{ period: '1s', number_of_requests: 1000 }] },
      services: {
        office365_exchange_message_service: { override_base_url: sim.url, override_base_auth_url: sim.url, override_time_delay_in_seconds: 2 * 86_400 - 60 - 4 * 900, request_period_in_seconds: 1 },
        office365_exchange_message_graph_service: { override_base_url: sim.url, override_base_auth_url: sim.url, override_time_delay_in_seconds: 1, request_period_in_seconds: 1 },
      },
    });
    const runtime = new CollectorRuntime(o365EmtCollector, { workDir: tempDir(), config, outputs: target.outputs, logStream: stream, startAt: BACKFILL.startAt });
    const running = runtime.run();
    const graphRows = () => target.events().filter((e) => 'recipientAddress' in e.event);
    const rwsRows = () => target.events().filter((e) => 'RecipientAddress' in e.event);
    try {
      await until(() => (logs.match(/Remote data is up to date!/g) ?? []).length >= 2);
      const before = graphRows().length;
      expect(before).toBeGreaterThan(100);
      expect(rwsRows().length).toBeGreaterThan(0);
      // A message received just now: the next one-second cycle picks it up (delay 1 s).
      const fresh = generateO365Traces({ messages: 1, from: new Date(Date.now() - 500), to: new Date(Date.now()), seed: 3, lateFraction: 0, maxRecipients: 1 });
      fresh[0]!.visibleAt = 0;
      sim.addRows(fresh);
      await until(() => graphRows().some((e) => e.event['recipientAddress'] === fresh[0]!.recipient));
      expect(graphRows().length).toBe(before + 1);
    } finally {
      await runtime.stop();
      await running;
    }
    // One token per API for the whole run, both from their own endpoint.
    expect(sim.requests.filter((r) => r.api === 'token-v1')).toHaveLength(1);
    expect(sim.requests.filter((r) => r.api === 'token-v2')).toHaveLength(1);
    expect(logs).toContain('Data collection completed.');
    expect(secretsIn(logs)).toEqual([]);
  });
});
