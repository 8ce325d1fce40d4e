import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { generateO365Traces, type O365Simulator } from '@collector/simulators';
import { graphDedupKey } from '@collector/o365-emt';
import { closeAll, DAY, HOUR, makeConfig, runOnce, secretsIn, startSimAndTarget, tempDir, waitForEvents, type Target } from './helpers.js';

const GRAPH = 'office365_exchange_message_graph_service';
/** Tests other than the throttle test must not wait on the default 20 requests a minute. */
const UNLIMITED = [{ period: '1s', number_of_requests: 1000 }];
afterEach(closeAll);

function graphRequests(sim: O365Simulator) {
  return sim.requests.filter((r) => r.api === 'graph' && r.status === 200 && r.filter !== undefined);
}

function expectedKeys(sim: O365Simulator): string[] {
  const filters = graphRequests(sim).map((r) => r.filter!);
  const start = Math.min(...filters.map((f) => f.start));
  const end = Math.max(...filters.map((f) => f.end));
  return sim.visibleRows(start, end).map((r) => `${r.messageTraceId}|${r.recipient}`).sort();
}

function deliveredKeys(target: Target): string[] {
  return target.events().map((e) => `${e.event['id']}|${e.event['recipientAddress']}`).sort();
}

function service(sim: O365Simulator, extra: Record<string, unknown> = {}) {
  return { [GRAPH]: { override_base_url: sim.url, override_base_auth_url: sim.url, ...extra } };
}

describe('office365_exchange_message_graph_service (Microsoft Graph messageTraces)', () => {
  it('pulls windows of at most 10 days, follows @odata.nextLink, and delivers every recipient row once', async () => {
    const now = Date.now();
    const { sim, target } = await startSimAndTarget({ generate: { messages: 400, from: new Date(now - 13 * DAY), to: new Date(now - HOUR) } });
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 12, requests_limits: UNLIMITED }, services: service(sim, { page_size: 40 }) });
    const { summary, logs } = await runOnce(tempDir(), target, config);
    expect(summary.errors).toEqual([]);
    const expected = expectedKeys(sim);
    await waitForEvents(target, expected.length);
    expect(expected.length).toBeGreaterThan(300);
    expect(deliveredKeys(target)).toEqual(expected);
    expect(new Set(target.events().map((e) => graphDedupKey(e.event))).size).toBe(target.events().length);
    // Two windows (10 days + the rest up to now − 25 h), each paged through nextLinks, v2 token with the Graph scope.
    const firstPages = sim.requests.filter((r) => r.api === 'graph' && r.query['$skiptoken'] === undefined);
    expect(firstPages).toHaveLength(2);
    expect(graphRequests(sim).every((r) => r.filter!.end - r.filter!.start <= 10 * DAY)).toBe(true);
    expect(sim.requests.filter((r) => r.api === 'graph' && r.query['$skiptoken'] !== undefined).length).toBeGreaterThan(5);
    expect(sim.requests.filter((r) => r.api === 'graph').every((r) => r.status === 200)).toBe(true);
    expect(sim.requests.filter((r) => r.api.startsWith('token'))).toEqual([expect.objectContaining({ api: 'token-v2' })]);
    expect(firstPages[0]!.query['$filter']).toMatch(/^receivedDateTime ge \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z and receivedDateTime le \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Math.max(...graphRequests(sim).map((r) => r.filter!.end))).toBeLessThanOrEqual(Date.now() - 90_000_000);
    // One message, several recipients, the same Graph id: all of them arrive.
    const perId = new Map<string, number>();
    for (const e of target.events()) perId.set(String(e.event['id']), (perId.get(String(e.event['id'])) ?? 0) + 1);
    expect([...perId.values()].some((n) => n > 1)).toBe(true);
    expect(target.events()[0]!.event).toEqual(expect.objectContaining({ receivedDateTime: expect.stringMatching(/Z$/), '@devo_pulling_id': expect.stringMatching(/^\d{13}$/) }));
    expect(logs).toContain('Remote data is up to date!');
    expect(logs).toContain('Savepoint reached: Updating persistence with -> {"start_time":');
    expect(secretsIn(logs + target.raw().join('\n'))).toEqual([]);
  });

  it('waits out a 429 with Retry-After (the 100 requests / 5 min tenant throttle) and loses nothing', async () => {
    const now = Date.now();
    const { sim, target } = await startSimAndTarget({ generate: { messages: 60, from: new Date(now - 3 * DAY), to: new Date(now - HOUR) }, graphThrottle: { limit: 3, windowMs: 1500 } });
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2, requests_limits: UNLIMITED }, services: service(sim, { page_size: 10 }) });
    const { summary, logs } = await runOnce(tempDir(), target, config);
    expect(summary.errors).toEqual([]);
    const throttled = sim.requests.filter((r) => r.api === 'graph' && r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(logs).toMatch(/Throttled by 127\.0\.0\.1:\d+ \(HTTP 429\); waiting \d+ s before retry/);
    const expected = expectedKeys(sim);
    await waitForEvents(target, expected.length);
    expect(deliveredKeys(target)).toEqual(expected);
  });

  it('gets a new token after a 401 for an expired one; a token Graph never accepts is SetupError 100', async () => {
    const now = Date.now();
    const { sim, target } = await startSimAndTarget({ generate: { messages: 100, from: new Date(now - 3 * DAY), to: new Date(now - HOUR) } });
    // The third messageTraces request meets an expired token.
    sim.faults.inject({ kind: 'expire-tokens', after: 2 });
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2, requests_limits: UNLIMITED }, services: service(sim, { page_size: 20 }) });
    const { summary, logs } = await runOnce(tempDir(), target, config);
    expect(summary.errors).toEqual([]);
    expect(sim.tokensIssued).toBe(2);
    expect(logs).toContain('InvalidAuthenticationToken: Lifetime validation failed, the token is expired.');
    expect(deliveredKeys(target)).toEqual(expectedKeys(sim));
    // A token for the wrong audience: refreshed once, refused again.
    const wrong = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2, requests_limits: UNLIMITED }, services: service(sim, { override_base_resource_url: 'https://outlook.office365.com' }) });
    const refused = await runOnce(tempDir(), target, wrong);
    expect(refused.summary.errors[0]).toMatch(/^SetupError 100: Authentication failed: HTTP 401 from 127\.0\.0\.1:\d+ even with a fresh token: InvalidAuthenticationToken: Access token validation failure\. Invalid audience\./);
    expect(secretsIn(logs + refused.logs)).toEqual([]);
  });

  it('403 is SetupError 103 with the Graph permission remedy', async () => {
    const { sim, target } = await startSimAndTarget({ generate: { messages: 5, from: new Date(Date.now() - 3 * DAY), to: new Date() } }, true);
    sim.settings.graphForbidden = true;
    const { summary } = await runOnce(tempDir(), target, makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2, requests_limits: UNLIMITED }, services: service(sim) }));
    expect(summary.errors[0]).toMatch(/^SetupError 103: No permission to access the report for the organization \(HTTP 403: Forbidden: .*ExchangeMessageTrace\.Read\.All.*\)\. Grant the app the Microsoft Graph application permission ExchangeMessageTrace\.Read\.All/);
    expect(target.events()).toHaveLength(0);
  });

  it('never asks for more than 90 days back (a larger cutoff is clamped and said so) and asks for recalled statuses', async () => {
    const now = Date.now();
    const rows = generateO365Traces({ messages: 50, from: new Date(now - 100 * DAY), to: new Date(now - 2 * DAY), seed: 4 });
    rows.at(-1)!.status = 'Recalled';
    const { sim, target } = await startSimAndTarget({ rows }, true);
    const started = Date.now();
    const { summary, logs } = await runOnce(tempDir(), target, makeConfig(target, { input: { max_historic_date_cutoff_days_back: 120, requests_limits: UNLIMITED }, services: service(sim) }));
    expect(summary.errors).toEqual([]);
    expect(logs).toContain('Graph answers at most 90 days back: max_historic_date_cutoff_days_back=120 is applied as 90 for this service');
    const firstStart = Math.min(...graphRequests(sim).map((r) => r.filter!.start));
    expect(firstStart).toBeGreaterThanOrEqual(started - 90 * DAY + 59_000);
    expect(sim.requests.filter((r) => r.api === 'graph' && r.status !== 200)).toEqual([]);
    expect(deliveredKeys(target)).toEqual(expectedKeys(sim));
    // `Prefer: include-unknown-enum-members` is sent, so a recalled message says so.
    expect(target.events().filter((e) => e.event['status'] === 'recalled')).toHaveLength(1);
    expect(target.events().some((e) => e.event['status'] === 'unknownFutureValue')).toBe(false);
  });

  it('a short delay plus a look-back picks up late rows on the next pull, and dedup drops what was already sent', async () => {
    const now = Date.now();
    const { sim, target } = await startSimAndTarget({ generate: { messages: 80, from: new Date(now - 3 * DAY), to: new Date(now - 2 * HOUR), lateFraction: 0 } });
    const workDir = tempDir();
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2, requests_limits: UNLIMITED }, services: service(sim, { override_time_delay_in_seconds: 3600, lookback_in_seconds: 6 * 3600 }) });
    const first = await runOnce(workDir, target, config);
    expect(first.summary.errors).toEqual([]);
    expect(Math.max(...graphRequests(sim).map((r) => r.filter!.end))).toBeLessThanOrEqual(Date.now() - 3_600_000);
    const before = target.events().length;
    // Rows received three hours ago that the trace service only publishes now.
    const late = generateO365Traces({ messages: 5, from: new Date(now - 3 * HOUR), to: new Date(now - 3 * HOUR + 60_000), seed: 77, lateFraction: 0 });
    sim.addRows(late);
    const second = await runOnce(workDir, target, config);
    expect(second.summary.errors).toEqual([]);
    await waitForEvents(target, before + late.length);
    expect(target.events().length).toBe(before + late.length);
    expect(second.summary.services[0]!.duplicates).toBeGreaterThan(0);
    const lateKeys = late.map((r) => `${r.messageTraceId}|${r.recipient}`).sort();
    expect(deliveredKeys(target).filter((k) => lateKeys.includes(k))).toEqual(lateKeys);
  });
});

describe('graph dedup key', () => {
  it('is the digest states saved by earlier versions hold (a changed key would send the look-back again)', () => {
    const row = { id: 'a1b2', messageId: '<m@x>', recipientAddress: 'r@x', receivedDateTime: '2026-01-01T00:00:00Z', status: 'delivered' };
    // sha256 of the fields joined by NUL, base64url, 24 characters: the key format since the first release.
    expect(graphDedupKey(row)).toBe(createHash('sha256').update('graph\u0000a1b2\u0000<m@x>\u0000r@x\u00002026-01-01T00:00:00Z\u0000delivered').digest('base64url').slice(0, 24));
    expect(graphDedupKey({ ...row, status: undefined })).toBe(createHash('sha256').update('graph\u0000a1b2\u0000<m@x>\u0000r@x\u00002026-01-01T00:00:00Z\u0000').digest('base64url').slice(0, 24));
    // Values that are not strings as the first release wrote them: null and absent empty, others their String().
    const odd = { id: 42, messageId: null, recipientAddress: true, receivedDateTime: '2026-01-01T00:00:00Z', status: 'delivered' };
    expect(graphDedupKey(odd)).toBe(createHash('sha256').update('graph\u000042\u0000\u0000true\u00002026-01-01T00:00:00Z\u0000delivered').digest('base64url').slice(0, 24));
  });
});
