import { afterEach, describe, expect, it } from 'vitest';
import { useRsyslog } from '@collector/testkit/vitest';
import { APP_ID, APP_SECRET, HOUR_MS, closeAll, isoSecondsAgo, larkConfig, runOnce, simulator, uniqueIds, workDir } from './helpers.js';

// The token-expiry and throttling runs deliver to a real rsyslog over TLS; the failure cases only need the SDK.
const rsyslog = useRsyslog();
afterEach(closeAll);

const recent = () => ({ generate: { count: 1_000, from: new Date(Date.now() - 2 * HOUR_MS), to: new Date(Date.now() - 1000) } });
const start = () => ({ initial_start_time_in_utc_value: isoSecondsAgo(3 * HOUR_MS) });

describe('auth token', () => {
  it.each([400, 401] as const)('a token that expires in the middle of paging (HTTP %i) is renewed and the same page asked again', async (status) => {
    const sim = await simulator({ ...recent(), invalidTokenStatus: status });
    // Setup's probe is audit request 1; pages 1 and 2 follow; the token dies before page 3.
    sim.faults.inject({ kind: 'expire-tokens', after: 3 });
    const { summary, received, logs } = await runOnce(workDir(), larkConfig(sim.url, start()), rsyslog);

    expect(summary.errors).toEqual([]);
    expect(received).toHaveLength(1_000);
    expect(new Set(uniqueIds(received)).size).toBe(1_000);
    expect(sim.tokensIssued).toBe(2);
    const audit = sim.auditRequests();
    const rejected = audit.findIndex((r) => r.code === 99991663);
    expect(rejected).toBeGreaterThan(0);
    expect(audit[rejected]!.status).toBe(status);
    expect(audit[rejected + 1]!.query['page_token']).toBe(audit[rejected]!.query['page_token']);
    expect(audit[rejected + 1]!.status).toBe(200);
    expect(logs).toContain('Lark says the auth token is no longer valid');
    for (const token of sim.issuedTokens) expect(logs).not.toContain(token);
  });

  it('wrong credentials give SetupError 100 and no audit request, without the secret in any line', async () => {
    const sim = await simulator(recent());
    const config = larkConfig(sim.url, start(), { credentials: { app_id: APP_ID, app_secret: 'Wrong-Secret-123456' } });
    const { summary, output, logs } = await runOnce(workDir(), config);

    expect(summary.ok).toBe(false);
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0]).toMatch(/^SetupError 100: HTTP error occurred while generating auth token from Lark server\. Lark answered HTTP 400, code 10014: app secret invalid/);
    expect(output.events()).toHaveLength(0);
    expect(sim.auditRequests()).toHaveLength(0);
    expect(logs).not.toContain('Wrong-Secret-123456');
    expect(logs).not.toContain(APP_SECRET);
  });

  it('an unknown app_id is SetupError 100 too', async () => {
    const sim = await simulator(recent());
    const { summary } = await runOnce(workDir(), larkConfig(sim.url, start(), { credentials: { app_id: 'cli_unknown', app_secret: APP_SECRET } }));
    expect(summary.errors[0]).toMatch(/^SetupError 100: .*code 10003/);
  });

  it('a token answer that is not JSON is SetupError 101', async () => {
    const sim = await simulator(recent());
    sim.faults.inject({ kind: 'garbage', on: 'token' });
    const { summary } = await runOnce(workDir(), larkConfig(sim.url, start()));
    expect(summary.errors[0]).toMatch(/^SetupError 101: Some error occurred while generating auth token from Lark server\. Error details: Invalid JSON/);
  });
});

describe('rate limits and faults', () => {
  it.each([429, 400, 200] as const)('throttling (HTTP %i, code 99991400) waits x-ogw-ratelimit-reset and loses nothing', async (status) => {
    const sim = await simulator(recent());
    // Setup's probe and page 1 pass; page 2 is throttled once and asked again after the advertised second.
    sim.faults.inject({ kind: 'throttle', status, retryAfter: 1, after: 2 });
    const { summary, received, logs } = await runOnce(workDir(), larkConfig(sim.url, start()), rsyslog);

    expect(summary.errors).toEqual([]);
    expect(received).toHaveLength(1_000);
    expect(new Set(uniqueIds(received)).size).toBe(1_000);
    const audit = sim.auditRequests();
    const throttled = audit.findIndex((r) => r.code === 99991400);
    expect(audit[throttled]!.status).toBe(status);
    expect(audit[throttled]!.query['page_token']).toBeTruthy();
    expect(audit[throttled + 1]!.query['page_token']).toBe(audit[throttled]!.query['page_token']);
    expect(audit[throttled + 1]!.status).toBe(200);
    expect(logs).toMatch(new RegExp(`Throttled by 127\\.0\\.0\\.1:\\d+ \\(HTTP ${status}\\); waiting 1 s before retry 1/5`));
  });

  it('a throttle that outlasts the retries fails the pull with PullError 300 and commits nothing past it', async () => {
    const sim = await simulator(recent());
    sim.faults.inject({ kind: 'throttle', retryAfter: 0, times: 6, after: 1 });
    const { summary } = await runOnce(workDir(), larkConfig(sim.url, start()));
    expect(summary.errors[0]).toMatch(/^PullError 300: HTTP error occurred while fetching audit infos from Lark server\. Lark answered HTTP 429, code 99991400: request trigger frequency limit/);
  });

  it('a 500 is retried and loses nothing', async () => {
    const sim = await simulator(recent());
    sim.faults.inject({ kind: 'status', status: 500, after: 2 });
    const { summary, output } = await runOnce(workDir(), larkConfig(sim.url, start()));
    expect(summary.errors).toEqual([]);
    expect(sim.auditRequests().filter((r) => r.status === 500)).toHaveLength(1);
    expect(new Set(output.ids('unique_id')).size).toBe(1_000);
  });

  it('a body that is not JSON fails the pull with PullError 301; the next run delivers every event', async () => {
    const sim = await simulator(recent());
    const dir = workDir();
    const config = larkConfig(sim.url, start());
    sim.faults.inject({ kind: 'garbage', after: 3 });
    const failed = await runOnce(dir, config);
    expect(failed.summary.errors[0]).toMatch(/^PullError 301: Some error occurred while fetching audit infos from Lark server\. Error details: Invalid JSON/);
    // Pages 1 and 2 were delivered; no checkpoint moved past the unfinished window.
    expect(failed.output.events()).toHaveLength(400);

    const next = await runOnce(dir, config);
    expect(next.summary.errors).toEqual([]);
    const delivered = new Set([...failed.output.ids('unique_id'), ...next.output.ids('unique_id')]);
    expect(delivered.size).toBe(1_000);
  });

  it('an app without the audit log scope fails setup with SetupError 103', async () => {
    const sim = await simulator(recent());
    sim.faults.inject({ kind: 'answer', status: 400, body: { code: 99991672, msg: 'Access denied. One of the following scopes is required: [admin:audit_info:readonly].' } });
    const { summary, output } = await runOnce(workDir(), larkConfig(sim.url, start()));
    expect(summary.errors[0]).toMatch(/^SetupError 103: HTTP Error occurred while fetching audit infos from Lark server\. Lark answered HTTP 400, code 99991672: Access denied/);
    expect(output.events()).toHaveLength(0);
  });
});
