import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime, runCollector } from '@collector/sdk/host';
import { generateO365Traces, toO365GraphDetails, type O365Simulator } from '@collector/simulators';
import { detailDedupKey, MESSAGE_TRACE_DETAIL_TAG, o365EmtCollector, RWS_RETIREMENT_WARNING } from '@collector/o365-emt';
import { closeAll, DAY, HOUR, makeConfig, runOnce, secretsIn, startSimAndTarget, tempDir, waitForEvents } from './helpers.js';

const GRAPH = 'office365_exchange_message_graph_service';
const DETAIL = 'office365_exchange_message_graph_detail_service';
const RWS = 'office365_exchange_message_service';
afterEach(closeAll);

async function validate(config: unknown): Promise<{ code: number; logs: string }> {
  const stream = new PassThrough();
  let logs = '';
  stream.on('data', (d) => (logs += d));
  const withOutput = { outputs: { console_1: { type: 'console' } }, ...(config as Record<string, unknown>) };
  const code = await runCollector(o365EmtCollector, { argv: ['--validate'], config: withOutput, workDir: tempDir(), logStream: stream, handleSignals: false });
  return { code, logs };
}

function urls(sim: O365Simulator) {
  return { override_base_url: sim.url, override_base_auth_url: sim.url };
}

describe('Graph by default; the legacy Reporting Web Service only when named', () => {
  it('a config without services: runs the Graph trace service only; naming the legacy service runs it with one retirement warning', async () => {
    const unnamed = makeConfig(undefined, { services: undefined });
    const runtime = new CollectorRuntime(o365EmtCollector, { config: { outputs: { console_1: { type: 'console' } }, ...unnamed }, workDir: tempDir(), logStream: new PassThrough() });
    expect(runtime.runners.map((r) => r.totals.service)).toEqual([GRAPH]);
    const quiet = await validate(unnamed);
    expect(quiet.code).toBe(0);
    expect(quiet.logs).not.toContain('Reporting Web Service');

    const legacy = await validate(makeConfig(undefined, { services: { [RWS]: {} } }));
    expect(legacy.code).toBe(0);
    expect(legacy.logs.split(RWS_RETIREMENT_WARNING)).toHaveLength(2);
    expect(legacy.logs).toMatch(/WARNING .*The Reporting Web Service message trace is being retired \(Microsoft began on 2026-04-06/);
  });

  it('a first run without --start-at starts where the original did: one 15-minute pipeline before now − delay (25 h by default)', async () => {
    const now = Date.now();
    const { sim, target } = await startSimAndTarget({ generate: { messages: 120, from: new Date(now - 28 * HOUR), to: new Date(now - 24 * HOUR), lateFraction: 0 } });
    const started = Date.now();
    const { summary, logs } = await runOnce(tempDir(), target, makeConfig(target, { input: { requests_limits: [{ period: '1s', number_of_requests: 1000 }] }, services: { [GRAPH]: urls(sim) } }), { startAt: undefined });
    expect(summary.errors).toEqual([]);
    expect(logs).toContain('No saved state found, applying values by default');
    const filters = sim.requests.filter((r) => r.api === 'graph' && r.filter).map((r) => r.filter!);
    const first = Math.min(...filters.map((f) => f.start));
    const last = Math.max(...filters.map((f) => f.end));
    // now − 25 h 15 min, whole seconds (the seed's log: started 13:17, first window from 12:02 the day before).
    expect(first).toBeGreaterThanOrEqual(Math.floor((started - 25 * HOUR - 15 * 60_000) / 1000) * 1000 - 1000);
    expect(first).toBeLessThanOrEqual(Date.now() - 25 * HOUR - 15 * 60_000);
    const expected = sim.visibleRows(first, last).map((r) => `${r.messageTraceId}|${r.recipient}`).sort();
    expect(expected.length).toBeGreaterThan(0);
    await waitForEvents(target, expected.length);
    expect(target.events().map((e) => `${e.event['id']}|${e.event['recipientAddress']}`).sort()).toEqual(expected);
    expect(sim.rows.some((r) => r.received < first)).toBe(true);
  });

  it('a first run saves its start before pulling: a restart after a failed first window resumes there, not at a later now − 25 h 15 min', async () => {
    const now = Date.now();
    const { sim, target } = await startSimAndTarget({ generate: { messages: 60, from: new Date(now - 25 * HOUR - 14 * 60_000), to: new Date(now - 25 * HOUR - 60_000), lateFraction: 0 } }, true);
    const workDir = tempDir();
    const config = makeConfig(target, { input: { requests_limits: [{ period: '1s', number_of_requests: 1000 }] }, services: { [GRAPH]: urls(sim) } });
    sim.faults.inject({ kind: 'status', status: 500, times: 100 });
    const failed = await runOnce(workDir, target, config, { startAt: undefined });
    expect(failed.summary.errors[0]).toMatch(/^PullError 300: /);
    const pinned = /The persistence has been modified\. Saving state as \{"start_time":"([^"]+)"/.exec(failed.logs)![1]!;
    sim.faults.clear();
    await new Promise((r) => setTimeout(r, 1100));
    const resumed = await runOnce(workDir, target, config, { startAt: undefined });
    expect(resumed.summary.errors).toEqual([]);
    expect(resumed.logs).not.toContain('No saved state found');
    const ok = sim.requests.filter((r) => r.api === 'graph' && r.status === 200 && r.filter);
    expect(Math.min(...ok.map((r) => r.filter!.start))).toBe(Date.parse(pinned));
    expect(target.events()).toHaveLength(sim.rows.length);
  });
});

describe('office365_exchange_message_graph_detail_service (getDetailsByRecipient)', () => {
  it('delivers one event per detail, each once, under its own tag, sharing the request budget with the trace service without a single 429', async () => {
    const now = Date.now();
    // The tenant throttle scaled down (12 requests / 2 s); the collector's budget a little under it, since the
    // server counts arrivals and the collector departures (at 5 minutes the difference is negligible).
    const { sim, target } = await startSimAndTarget({ generate: { messages: 14, from: new Date(now - 2 * DAY), to: new Date(now - 2 * HOUR), lateFraction: 0 }, seed: 19, graphThrottle: { limit: 12, windowMs: 2000 } });
    const workDir = tempDir();
    const config = makeConfig(target, {
      input: { max_historic_date_cutoff_days_back: 3, requests_limits: [{ period: '2s', number_of_requests: 10 }] },
      services: { [GRAPH]: { ...urls(sim), override_time_delay_in_seconds: 3600 }, [DETAIL]: { ...urls(sim), override_time_delay_in_seconds: 3600, max_window_in_seconds: 6 * 3600 } },
    });
    const first = await runOnce(workDir, target, config);
    expect(first.summary.errors).toEqual([]);

    const detailRequests = sim.requests.filter((r) => r.api === 'graph-detail');
    const rows = sim.visibleRows(now - 3 * DAY, now);
    expect(rows.length).toBeGreaterThan(14);
    // One request per trace row (message × recipient), all answered: no 429 from the tenant throttle.
    expect(detailRequests).toHaveLength(rows.length);
    expect(sim.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(detailRequests.every((r) => r.status === 200)).toBe(true);

    const expected = rows.flatMap((row) => toO365GraphDetails(row).map((d) => detailDedupKey({ ...d, recipientAddress: row.recipient }))).sort();
    await waitForEvents(target, expected.length, 10_000, MESSAGE_TRACE_DETAIL_TAG);
    const details = target.events(MESSAGE_TRACE_DETAIL_TAG);
    expect(details.map((d) => detailDedupKey(d.event)).sort()).toEqual(expected);
    expect(details[0]!.event).toEqual(
      expect.objectContaining({ '@odata.type': '#microsoft.graph.exchangeMessageTraceDetail', event: 'Receive', recipientAddress: expect.stringMatching(/@contoso\.com$/), dateTime: expect.stringMatching(/Z$/), '@devo_pulling_id': expect.stringMatching(/^\d{13}$/) }),
    );
    // Failed and quarantined deliveries say why, per recipient.
    expect(details.some((d) => d.event['event'] === 'Fail' && String(d.event['description']).includes('RecipientNotFound'))).toBe(true);
    // The trace rows themselves still arrive once each under the trace tag.
    expect(target.events().length).toBe(rows.length);

    // A second run re-reads nothing it already has: no detail request, no event.
    const second = await runOnce(workDir, target, config);
    expect(second.summary.errors).toEqual([]);
    expect(sim.requests.filter((r) => r.api === 'graph-detail')).toHaveLength(rows.length);
    expect(target.events(MESSAGE_TRACE_DETAIL_TAG)).toHaveLength(expected.length);
    expect(secretsIn(first.logs + second.logs + target.raw().join('\n'))).toEqual([]);
  });

  it('detail_statuses spends requests only on the rows whose status it names; a wrong value is InitVariablesError 28', async () => {
    const now = Date.now();
    const { sim, target } = await startSimAndTarget({ generate: { messages: 40, from: new Date(now - 6 * HOUR), to: new Date(now - 2 * HOUR), lateFraction: 0 }, seed: 23 }, true);
    const services = { [DETAIL]: { ...urls(sim), override_time_delay_in_seconds: 600, detail_statuses: ['failed', 'Quarantined'] } };
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2, requests_limits: [{ period: '1s', number_of_requests: 1000 }] }, services });
    expect((await runOnce(tempDir(), target, config)).summary.errors).toEqual([]);
    const wanted = sim.rows.filter((r) => r.status === 'Failed' || r.status === 'Quarantined');
    expect(wanted.length).toBeGreaterThan(0);
    expect(wanted.length).toBeLessThan(sim.rows.length);
    expect(sim.requests.filter((r) => r.api === 'graph-detail')).toHaveLength(wanted.length);
    const asked = new Set(target.events(MESSAGE_TRACE_DETAIL_TAG).map((d) => `${d.event['id']}|${d.event['recipientAddress']}`));
    expect([...asked].sort()).toEqual(wanted.map((r) => `${r.messageTraceId}|${r.recipient}`).sort());

    const bad = await validate(makeConfig(undefined, { services: { [DETAIL]: { detail_statuses: ['failed', 'bounced'] } } }));
    expect(bad.code).toBe(2);
    expect(bad.logs).toContain('InitVariablesError 28: Optional setting: <detail_statuses> must be a non-empty list of message trace statuses (gettingStatus, pending, failed, delivered, expanded, quarantined, filteredAsSpam, recalled, unknownFutureValue), got ["failed","bounced"] (inputs.office365_exchange_message.services.office365_exchange_message_graph_detail_service.detail_statuses)');
  });

  it('a look-back re-reads rows without spending a request on details it already fetched; a late row gets its details', async () => {
    const now = Date.now();
    const { sim, target } = await startSimAndTarget({ generate: { messages: 6, from: new Date(now - 6 * HOUR), to: new Date(now - 2 * HOUR), lateFraction: 0 }, seed: 5 }, true);
    const workDir = tempDir();
    const config = makeConfig(target, {
      input: { max_historic_date_cutoff_days_back: 2, requests_limits: [{ period: '1s', number_of_requests: 1000 }] },
      services: { [DETAIL]: { ...urls(sim), override_time_delay_in_seconds: 600, lookback_in_seconds: 6 * 3600 } },
    });
    expect((await runOnce(workDir, target, config)).summary.errors).toEqual([]);
    const asked = sim.requests.filter((r) => r.api === 'graph-detail').length;
    expect(asked).toBe(sim.rows.length);
    const late = generateO365Traces({ messages: 1, from: new Date(now - 3 * HOUR), to: new Date(now - 3 * HOUR + 1000), seed: 88, lateFraction: 0, maxRecipients: 1 });
    sim.addRows(late);
    const second = await runOnce(workDir, target, config);
    expect(second.summary.errors).toEqual([]);
    expect(sim.requests.filter((r) => r.api === 'graph-detail').length).toBe(asked + 1);
    expect(second.summary.services[0]!.sent).toBe(toO365GraphDetails(late[0]!).length);
  });
});
