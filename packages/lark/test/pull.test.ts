import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeLarkAuditInfo } from '@collector/simulators';
import { useRsyslog } from '@collector/testkit/vitest';
import { APP_SECRET, HOUR_MS, closeAll, isoSecondsAgo, larkConfig, runOnce, simulator, uniqueIds, workDir } from './helpers.js';

// Every test here delivers through the SDK's devo_platform output to a real rsyslog over TLS.
const rsyslog = useRsyslog();
afterEach(closeAll);

function withoutPullingId(event: Record<string, unknown>): Record<string, unknown> {
  const { ['@devo_pulling_id']: _id, ...rest } = event;
  return rest;
}

describe('audit_infos pull, delivered to rsyslog', () => {
  it.each(['desc', 'asc'] as const)('pages through many pages and windows (%s order), forwarding every event once and exactly as Lark returned it', async (order) => {
    const sim = await simulator({ order, generate: { count: 2_345, from: new Date(Date.now() - 70 * HOUR_MS), to: new Date(Date.now() - 60_000) } });
    const dir = workDir();
    const { summary, received, logs } = await runOnce(dir, larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(72 * HOUR_MS) }), rsyslog);

    expect(summary.errors).toEqual([]);
    expect(received).toHaveLength(2_345);
    expect(new Set(uniqueIds(received)).size).toBe(2_345);
    const truth = new Map(sim.events.map((e) => [e.unique_id, e]));
    for (const line of received) {
      expect(line.tag).toBe('app.lark.audit.event');
      expect(withoutPullingId(line.event)).toEqual(truth.get(String(line.event['unique_id'])));
      expect(String(line.event['@devo_pulling_id'])).toMatch(/^\d{13}$/);
    }

    // The contract: page_size 200, windows within 30 days (one day each), paging with the returned tokens.
    const pulls = sim.auditRequests().filter((r) => r.query['page_size'] === '200');
    expect(pulls.length).toBeGreaterThanOrEqual(Math.ceil(2_345 / 200));
    for (const r of pulls) {
      expect(r.status).toBe(200);
      expect(Number(r.query['latest']) - Number(r.query['oldest'])).toBeLessThanOrEqual(86_400);
    }
    expect(pulls.filter((r) => r.query['page_token']).length).toBeGreaterThan(5);
    expect(new Set(pulls.map((r) => r.query['oldest'])).size).toBeGreaterThanOrEqual(3);
    expect(sim.tokensIssued).toBe(1);

    expect(logs).toContain('Successfully generated auth token for Lark API');
    expect(logs).toContain('Remote source is pullable');
    expect(logs).toMatch(/Retrieved \d+ audit_infos event\(s\)/);
    expect(logs).toMatch(/Number of events received: 2345; Number of duplicated events filtered out: 0; Number of events generated and sent: 2345/);

    // The checkpoint is the end of the last fully delivered window, close to now.
    const stateDir = join(dir, 'state');
    const stateFile = readdirSync(stateDir).find((f) => f.includes('audit_infos'))!;
    const stateText = readFileSync(join(stateDir, stateFile), 'utf8');
    const state = JSON.parse(stateText) as { checkpoint: { latest: number } };
    expect(state.checkpoint.latest).toBeGreaterThan(Date.now() / 1000 - 120);
    // Secrets reach neither the log, nor the state, nor anything rsyslog received (internal logs included).
    const wire = rsyslog.lines().join('\n');
    for (const secret of [APP_SECRET, ...sim.issuedTokens]) {
      expect(logs).not.toContain(secret);
      expect(stateText).not.toContain(secret);
      expect(wire).not.toContain(secret);
    }
  });

  it('sends each record as the text Lark sent (escapes, number forms, spacing kept; a pretty-printed record on one line), with the pulling id appended', async () => {
    const sim = await simulator();
    const time = Math.floor(Date.now() / 1000) - 120;
    const oneLine = `{"unique_id":"u1","event_name":"caf\\u00e9 \\ud83d\\ude00","n":1.0, "spaced" : [1, 2],"event_time":${time}}`;
    // Lark's answer as a pretty-printer writes it: line breaks between the tokens of the envelope and of one record.
    const page = `{\n  "code": 0,\n  "msg": "success",\n  "data": {\n    "has_more": false,\n    "items": [\n      ${oneLine},\n      {\n        "unique_id": "u2",\n        "nested": {"a": [ ], "s": "x  y"}\n      },\n      {"unique_id":"u1","again":true}\n    ]\n  }\n}`;
    // The setup probe first, then the pull's one request.
    sim.faults.inject({ kind: 'answer', status: 200, body: page, after: 1 });
    const { summary, received } = await runOnce(workDir(), larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(600_000) }), rsyslog);

    expect(summary.errors).toEqual([]);
    expect(summary.services[0]!.duplicates).toBe(1);
    const id = String(received[0]?.event['@devo_pulling_id']);
    expect(id).toMatch(/^\d{13}$/);
    expect(received.map((line) => line.message)).toEqual([`${oneLine.slice(0, -1)},"@devo_pulling_id":"${id}"}`, `{"unique_id":"u2","nested":{"a":[],"s":"x  y"},"@devo_pulling_id":"${id}"}`]);
    expect(received[0]!.event['event_name']).toBe('café 😀');
  });

  it('a restart resumes from the checkpoint without sending anything twice', async () => {
    const sim = await simulator({ generate: { count: 500, from: new Date(Date.now() - 5 * HOUR_MS), to: new Date(Date.now() - 1000) } });
    const dir = workDir();
    const config = larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(6 * HOUR_MS) });
    const first = await runOnce(dir, config, rsyslog);
    expect(first.received).toHaveLength(500);
    const firstPullRequests = sim.auditRequests().length;

    sim.addEvents(makeLarkAuditInfo({ uniqueId: 'fresh-after-restart', eventTime: Math.floor(Date.now() / 1000) }));
    const second = await runOnce(dir, config, rsyslog);
    expect(second.summary.errors).toEqual([]);
    expect(uniqueIds(second.received)).toEqual(['fresh-after-restart']);
    // It resumed near the checkpoint (minus the 300 s look-back), not from the configured start.
    const resumed = sim.auditRequests().slice(firstPullRequests).filter((r) => r.query['page_size'] === '200');
    expect(Math.min(...resumed.map((r) => Number(r.query['oldest'])))).toBeGreaterThan(Date.now() / 1000 - 400);
    expect(second.logs).toContain('Token is valid. Skipping the generation of new auth token');
  });

  it('a late event inside the look-back arrives exactly once; one older than the look-back is not read again', async () => {
    const sim = await simulator({ generate: { count: 50, from: new Date(Date.now() - 2 * HOUR_MS), to: new Date(Date.now() - 1000) } });
    const dir = workDir();
    const config = larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(3 * HOUR_MS), lookback_in_seconds: 600 });
    expect((await runOnce(dir, config, rsyslog)).received).toHaveLength(50);

    const now = Math.floor(Date.now() / 1000);
    sim.addEvents(makeLarkAuditInfo({ uniqueId: 'late-inside', eventTime: now - 300 }), makeLarkAuditInfo({ uniqueId: 'late-outside', eventTime: now - 3600 }));
    const second = await runOnce(dir, config, rsyslog);
    expect(uniqueIds(second.received)).toEqual(['late-inside']);
    expect(second.summary.services[0]!.duplicates).toBeGreaterThan(0);

    const third = await runOnce(dir, config, rsyslog);
    expect(third.output.events()).toHaveLength(0);
    expect(third.received).toHaveLength(0);
  });

  it('uses override_tag for the Devo tag', async () => {
    const sim = await simulator({ generate: { count: 3, from: new Date(Date.now() - HOUR_MS), to: new Date(Date.now() - 1000) } });
    const config = larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(2 * HOUR_MS), override_tag: 'my.app.lark.audit_test' });
    const { received } = await runOnce(workDir(), config, rsyslog);
    expect(received.map((r) => r.tag)).toEqual(['my.app.lark.audit_test', 'my.app.lark.audit_test', 'my.app.lark.audit_test']);
  });

  it('changing initial_start_time_in_utc_value resets the persistence and pulls again from the new start', async () => {
    const sim = await simulator({ generate: { count: 20, from: new Date(Date.now() - 2 * HOUR_MS), to: new Date(Date.now() - 1000) } });
    const dir = workDir();
    await runOnce(dir, larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(3 * HOUR_MS) }));
    const again = await runOnce(dir, larkConfig(sim.url, { initial_start_time_in_utc_value: isoSecondsAgo(4 * HOUR_MS) }));
    expect(again.output.events()).toHaveLength(20);
    expect(again.logs).toContain('The persistence has been reset');
  });
});
