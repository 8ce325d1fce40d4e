import { afterEach, describe, expect, it } from 'vitest';
import { generateO365Traces, type O365Simulator } from '@collector/simulators';
import { rwsDedupKey, rwsReceivedMs, MESSAGE_TRACE_TAG } from '@collector/o365-emt';
import { closeAll, DAY, HOUR, makeConfig, runOnce, secretsIn, startSimAndTarget, tempDir, waitForEvents, type Target } from './helpers.js';

const RWS = 'office365_exchange_message_service';
afterEach(closeAll);

/** Rows spread over the last three days, 20 % of them up to 24 h late (all visible by now − 25 h). */
function threeDays(messages = 300) {
  const now = Date.now();
  return { generate: { messages, from: new Date(now - 3 * DAY), to: new Date(now - 60_000) } };
}

/** Cutoff 2 days and a delay that leaves 8 windows of 15 minutes: fast tests of everything but the delay. */
const FEW_WINDOWS = { override_time_delay_in_seconds: 2 * 86_400 - 60 - 8 * 900 };

function rwsRequests(sim: O365Simulator) {
  return sim.requests.filter((r) => r.api === 'rws' && r.status === 200 && r.filter !== undefined);
}

/** What a correct collector delivers: every row of the pulled span, one event per (message, recipient). */
function expectedKeys(sim: O365Simulator): string[] {
  const filters = rwsRequests(sim).map((r) => r.filter!);
  const start = Math.min(...filters.map((f) => f.start));
  const end = Math.max(...filters.map((f) => f.end));
  return sim.visibleRows(start, end).map((r) => `${r.messageTraceId}|${r.recipient}`).sort();
}

function deliveredKeys(target: Target): string[] {
  return target
    .events()
    .filter((e) => e.tag === MESSAGE_TRACE_TAG)
    .map((e) => `${e.event['MessageTraceId']}|${e.event['RecipientAddress']}`)
    .sort();
}

describe('office365_exchange_message_service (Reporting Web Service)', () => {
  for (const variant of [
    { name: 'JSON light, $skiptoken offsets', shape: 'light' as const, nextLink: false },
    { name: 'verbose d.results with /Date(ms)/ and a __next link', shape: 'verbose' as const, nextLink: true },
  ]) {
    it(`pulls 15-minute multi-page windows exactly once (${variant.name}) and keeps secrets out of the logs`, async () => {
      const { sim, target } = await startSimAndTarget({ ...threeDays(1500), rwsShape: variant.shape, rwsNextLink: variant.nextLink });
      const workDir = tempDir();
      // 16 windows of 15 minutes (the 25-hour default has its own test below).
      const delay = 2 * 86_400 - 60 - 16 * 900;
      const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url, override_base_resource_url: 'https://outlook.office365.com', page_size: 3, override_time_delay_in_seconds: delay } } });
      const { summary, logs } = await runOnce(workDir, target, config);
      expect(summary.errors).toEqual([]);
      const expected = expectedKeys(sim);
      await waitForEvents(target, expected.length);
      expect(expected.length).toBeGreaterThan(100);
      expect(deliveredKeys(target)).toEqual(expected);
      // Windows are 15 minutes, several pages each, and the v1 token endpoint with `resource` was used.
      const filters = rwsRequests(sim).map((r) => r.filter!);
      expect(new Set(filters.map((f) => f.end - f.start))).toEqual(new Set([15 * 60_000]));
      expect(rwsRequests(sim).some((r) => r.query['$skiptoken'] !== undefined)).toBe(true);
      expect(sim.requests.filter((r) => r.api === 'token-v1')).toHaveLength(1);
      // Recipients of one message are distinct events.
      const byTrace = new Map<string, number>();
      for (const e of target.events()) byTrace.set(String(e.event['MessageTraceId']), (byTrace.get(String(e.event['MessageTraceId'])) ?? 0) + 1);
      expect([...byTrace.values()].some((n) => n > 1)).toBe(true);
      // Records arrive exactly as the vendor sent them, plus @devo_pulling_id.
      const first = target.events()[0]!.event;
      expect(first['@devo_pulling_id']).toMatch(/^\d{13}$/);
      if (variant.shape === 'verbose') expect(String(first['Received'])).toMatch(/^\/Date\(\d+\)\/$/);
      else expect(String(first['Received'])).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$/);
      expect(logs).toMatch(/Running a new pipeline \(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z - \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\)/);
      expect(logs).toContain('Savepoint reached: Updating persistence with -> {"start_time":');
      expect(logs).toContain('Remote data is up to date!');
      expect(logs).toContain('which expires in 3599 seconds');
      expect(secretsIn(logs)).toEqual([]);
      expect(secretsIn(target.raw().join('\n'))).toEqual([]);
    });
  }

  it('respects the 25-hour delay by default: no window ends after now − 90000 s and newer rows stay behind', async () => {
    const { sim, target } = await startSimAndTarget(threeDays(200), true);
    const started = Date.now();
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url } } });
    const { summary } = await runOnce(tempDir(), target, config);
    expect(summary.errors).toEqual([]);
    const latestEnd = Math.max(...rwsRequests(sim).map((r) => r.filter!.end));
    expect(latestEnd).toBeLessThanOrEqual(Date.now() - 90_000_000);
    expect(latestEnd).toBeGreaterThan(started - 90_000_000 - 15 * 60_000 - 1000);
    const received = target.events().map((e) => rwsReceivedMs(e.event['Received'])!);
    expect(Math.max(...received)).toBeLessThanOrEqual(latestEnd);
    expect(sim.rows.some((r) => r.received > started - 25 * HOUR)).toBe(true);
  });

  it('a restart continues from the savepoint: no duplicates, no gaps', async () => {
    const { sim, target } = await startSimAndTarget(threeDays(600));
    const workDir = tempDir();
    const config = (delay: number) => makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url, page_size: 2, override_time_delay_in_seconds: delay } } });
    const first = await runOnce(workDir, target, config(FEW_WINDOWS.override_time_delay_in_seconds));
    expect(first.summary.errors).toEqual([]);
    // Four more windows became due (as if an hour had passed).
    const second = await runOnce(workDir, target, config(FEW_WINDOWS.override_time_delay_in_seconds - 4 * 900));
    expect(second.summary.errors).toEqual([]);
    expect(second.logs).not.toContain('No saved state found');
    const expected = expectedKeys(sim);
    await waitForEvents(target, expected.length);
    expect(deliveredKeys(target)).toEqual(expected);
    expect(new Set(target.events().map((e) => rwsDedupKey(e.event))).size).toBe(target.events().length);
    const third = await runOnce(workDir, target, config(FEW_WINDOWS.override_time_delay_in_seconds - 4 * 900));
    expect(third.summary.services[0]!.sent).toBe(0);
  });

  it('a run broken inside a window resumes at that window without gaps, and what was delivered is not sent again', async () => {
    const { sim, target } = await startSimAndTarget(threeDays(600));
    const workDir = tempDir();
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url, page_size: 2, ...FEW_WINDOWS } } });
    let brokenWindow: { start: number; end: number } | undefined;
    sim.faults.inject({ kind: 'garbage', on: 'rws', after: 11 });
    const first = await runOnce(workDir, target, config);
    expect(first.summary.errors).toHaveLength(1);
    expect(first.summary.errors[0]).toMatch(/^PullError 301: The message trace API answered with an unreadable body/);
    const broken = sim.requests.filter((r) => r.api === 'rws').at(-1)!;
    brokenWindow = rwsRequests(sim).at(-1)!.filter;
    expect(broken.filter).toBeUndefined();
    const second = await runOnce(workDir, target, config);
    expect(second.summary.errors).toEqual([]);
    const expected = expectedKeys(sim);
    await waitForEvents(target, expected.length);
    expect([...new Set(deliveredKeys(target))].sort()).toEqual(expected);
    // The window is read again from its start; the rows sent before the failure are dropped by the dedup window.
    expect(rwsRequests(sim).filter((r) => r.filter!.start === brokenWindow!.start && r.query['$skiptoken'] === undefined)).toHaveLength(2);
    expect(target.events()).toHaveLength(expected.length);
    expect(second.summary.services[0]!.duplicates).toBeGreaterThan(0);
  });

  it('gets a new token when the API says 401 for an expired one, and carries on', async () => {
    const { sim, target } = await startSimAndTarget(threeDays(600));
    // The fifth RWS request meets an expired token.
    sim.faults.inject({ kind: 'expire-tokens', on: 'rws', after: 4 });
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url, ...FEW_WINDOWS } } });
    const { summary, logs } = await runOnce(tempDir(), target, config);
    expect(summary.errors).toEqual([]);
    expect(sim.tokensIssued).toBe(2);
    expect(sim.requests.filter((r) => r.api === 'rws' && r.status === 401)).toHaveLength(1);
    expect(logs).toContain('the token expired or was revoked; getting a new one and retrying once');
    expect(deliveredKeys(target)).toEqual(expectedKeys(sim));
    expect(secretsIn(logs)).toEqual([]);
  });

  it('retries 5xx and token-endpoint failures; gives up with PullError 300 after the retries', async () => {
    const { sim, target } = await startSimAndTarget(threeDays(300), true);
    sim.faults.inject({ kind: 'status', status: 500, on: 'token' });
    sim.faults.inject({ kind: 'status', status: 500, on: 'rws', times: 2 });
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url, ...FEW_WINDOWS } } });
    const ok = await runOnce(tempDir(), target, config);
    expect(ok.summary.errors).toEqual([]);
    expect(sim.requests.filter((r) => r.status === 500)).toHaveLength(3);
    expect(deliveredKeys(target)).toEqual(expectedKeys(sim));
    sim.faults.inject({ kind: 'status', status: 500, on: 'rws', times: 6 });
    const failed = await runOnce(tempDir(), target, config);
    expect(failed.summary.errors[0]).toMatch(/^PullError 300: Unexpected HTTP 500 from the message trace API/);
  });

  it('401 with the IIS HTML page is SetupError 100 with the page title; 403 is explained with its remedy', async () => {
    const { sim, target } = await startSimAndTarget(threeDays(20), true);
    sim.settings.rwsUnauthorized = true;
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url } } });
    const unauthorized = await runOnce(tempDir(), target, config);
    expect(unauthorized.summary.errors[0]).toMatch(/^SetupError 100: Authentication failed: HTTP 401 from 127\.0\.0\.1:\d+ even with a fresh token: HTML page "401 - Unauthorized: Access is denied due to invalid credentials\."/);
    sim.settings.rwsUnauthorized = false;
    sim.settings.rwsForbidden = true;
    const forbidden = await runOnce(tempDir(), target, config);
    expect(forbidden.summary.errors[0]).toMatch(/^SetupError 103: No permission to access the report for the organization \(HTTP 403: No permission to access the report for the organization \.\)\. Grant the app the application permission ReportingWebService\.Read\.All .*Global Reader/);
    expect(target.events()).toHaveLength(0);
    expect(secretsIn(unauthorized.logs + forbidden.logs)).toEqual([]);
  });

  it('a wrong client secret is SetupError 100, an unknown tenant SetupError 101, and neither leaks a credential', async () => {
    const { sim, target } = await startSimAndTarget(threeDays(5), true);
    const services = { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url } };
    const badSecret = await runOnce(tempDir(), target, makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services, credentials: { tenant_id: sim.url ? 'f3a1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b' : '', client_id: '7d9e8f10-1a2b-4c3d-9e8f-a0b1c2d3e4f5', client_secret: 'wrong-secret-value-123' } }));
    expect(badSecret.summary.errors[0]).toMatch(/^SetupError 100: Authentication failed: HTTP 401 from the token endpoint: invalid_client: AADSTS7000215/);
    expect(badSecret.logs).not.toContain('wrong-secret-value-123');
    const badTenant = await runOnce(tempDir(), target, makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services, credentials: { tenant_id: 'another-tenant-0000', client_id: '7d9e8f10-1a2b-4c3d-9e8f-a0b1c2d3e4f5', client_secret: 'Zq8~sEcReT.vAlUe-0123456789abcdefXYZ' } }));
    expect(badTenant.summary.errors[0]).toMatch(/^SetupError 101: Unexpected status code when fetching Office365ExchangeMessageTrace JWT: HTTP 400: invalid_request: AADSTS90002/);
    expect(badTenant.logs).not.toContain('another-tenant-0000');
    expect(secretsIn(badSecret.logs + badTenant.logs)).toEqual([]);
  });

  it('a new reset_persistence_auth value restarts the persistence once', async () => {
    const { sim, target } = await startSimAndTarget(threeDays(600));
    const workDir = tempDir();
    const config = (reset: string) => makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2 }, services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url, reset_persistence_auth: reset, ...FEW_WINDOWS } } });
    const first = await runOnce(workDir, target, config('2026-01-01'));
    const count = first.summary.services[0]!.sent;
    expect(count).toBeGreaterThan(0);
    const again = await runOnce(workDir, target, config('2026-01-01'));
    expect(again.summary.services[0]!.sent).toBe(0);
    const reset = await runOnce(workDir, target, config('2026-02-01'));
    expect(reset.logs).toContain('The persistence has been reset');
    expect(reset.summary.services[0]!.sent).toBe(count);
    const after = await runOnce(workDir, target, config('2026-02-01'));
    expect(after.summary.services[0]!.sent).toBe(0);
  });

  it('a --start-at older than the historic cutoff starts at the cutoff plus its margin, and says so', async () => {
    const now = Date.now();
    const rows = generateO365Traces({ messages: 2000, from: new Date(now - 4 * DAY), to: new Date(now - 26 * HOUR), seed: 9 });
    const { sim, target } = await startSimAndTarget({ rows }, true);
    const config = makeConfig(target, { input: { max_historic_date_cutoff_days_back: 2, max_historic_date_margin_seconds: 3600 }, services: { [RWS]: { override_base_url: sim.url, override_base_auth_url: sim.url, override_time_delay_in_seconds: 2 * 86_400 - 3600 - 8 * 900 } } });
    const started = Date.now();
    const { summary, logs } = await runOnce(tempDir(), target, config);
    expect(summary.errors).toEqual([]);
    const firstStart = Math.min(...rwsRequests(sim).map((r) => r.filter!.start));
    const floor = started - 2 * DAY + 3600_000;
    expect(firstStart).toBeGreaterThanOrEqual(floor - 1000);
    expect(firstStart).toBeLessThanOrEqual(floor + 5000);
    expect(logs).toMatch(/The --start-at start \(minus lookback_in_seconds\) \S+ is older than the maximum historic date \(-2 days, max_historic_date_cutoff_days_back\): starting at \S+ \(now - 2 day\(s\) \+ 3600 s max_historic_date_margin_seconds\) instead/);
    const delivered = target.events().map((e) => rwsReceivedMs(e.event['Received'])!);
    expect(Math.min(...delivered)).toBeGreaterThanOrEqual(firstStart);
    expect(rows.some((r) => r.received < firstStart)).toBe(true);
  });
});
