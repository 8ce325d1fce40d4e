import { afterEach, describe, expect, it } from 'vitest';
import { type CollectorError } from '@collector/sdk';
import { CollectorRuntime } from '@collector/sdk/host';
import { darktraceCollector } from '@collector/darktrace';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, newWorkDir, runOnce, runtimeFor, simulator, utc } from './helpers.js';

afterEach(closeSimulators);

// --validate needs an output in the config (the delivering tests bring their own receivers).
const CONSOLE = { console_1: { type: 'console' } };
const breachesOnly = () => ({ modelbreaches: { start_time_in_utc_format: utc(hoursAgo(2)) } });

describe('authentication and permission errors', () => {
  it('wrong tokens give SetupError 101 and never print the tokens', async () => {
    const sim = await simulator();
    const credentials = { ...credentialsFor(sim), private_token: 'wrong-private-token-value' };
    const { summary, logs } = await runOnce(newWorkDir(), darktraceConfig(credentials, breachesOnly()));
    expect(summary.ok).toBe(false);
    expect(summary.errors[0]).toMatch(/^SetupError 101: The tokens provided are incorrect\. Please specify the correct credentials\. Error message GET \/status: API SIGNATURE ERROR \(inputs\.darktrace\.credentials\)$/);
    expect(logs).toContain('SetupError 101');
    expect(logs).not.toContain('wrong-private-token-value');
    expect(logs).not.toContain(sim.publicToken);
  });

  it('clock skew (API DATE ERROR) gives SetupError 104 with both clocks and the remedy', async () => {
    const sim = await simulator();
    sim.clockOffsetMs = 45 * 60_000;
    const { summary } = await runOnce(newWorkDir(), darktraceConfig(credentialsFor(sim), breachesOnly()));
    expect(summary.errors[0]).toMatch(/^SetupError 104: The Darktrace server rejected the request date \(API DATE ERROR\): this machine's clock and the instance's clock differ/);
    expect(summary.errors[0]).toMatch(/Local clock: .*; instance clock \(HTTP Date header\): /);
    // Within the 30 minute tolerance the same setup works.
    sim.clockOffsetMs = 10 * 60_000;
    const again = await runOnce(newWorkDir(), darktraceConfig(credentialsFor(sim), breachesOnly()));
    expect(again.summary.errors).toEqual([]);
  });

  it('a token without permission for an endpoint (302 to /403) gives SetupError 102', async () => {
    const sim = await simulator({ tokens: [{ publicToken: 'limited-public-token', privateToken: 'limited-private-token', allow: ['/status', '/summarystatistics'] }] });
    const credentials = { public_token: 'limited-public-token', private_token: 'limited-private-token', instance: sim.url };
    const { summary } = await runOnce(newWorkDir(), darktraceConfig(credentials, breachesOnly()));
    const breachError = summary.services.find((s) => s.service === 'modelbreaches')!.lastError;
    expect(breachError).toMatch(/^SetupError 102: The provided tokens are valid but they do not have the permission to get data: Error message GET \/modelbreaches was redirected to \/403/);
    expect(sim.requests.some((r) => r.path === '/modelbreaches' && r.status === 302)).toBe(true);
  });

  it('the HTML login page instead of data gives SetupError 102 during a pull', async () => {
    const sim = await simulator({ breaches: { from: hoursAgo(2), to: hoursAgo(1), everyMs: 60_000 } });
    sim.faults.inject({ kind: 'login-page', on: '/modelbreaches' });
    const { summary } = await runOnce(newWorkDir(), darktraceConfig(credentialsFor(sim), breachesOnly()));
    expect(summary.services.find((s) => s.service === 'modelbreaches')!.lastError).toMatch(/^SetupError 102: .*GET \/modelbreaches answered with the login page/);
  });

  it("a breach whose text holds the login page's title is data, not the login page", async () => {
    const sim = await simulator();
    const breach = sim.addBreach(hoursAgo(1.5), { comment: '<html><head><title>Log In | Darktrace</title></head></html>' });
    const { summary, delivered } = await runOnce(newWorkDir(), darktraceConfig(credentialsFor(sim), breachesOnly()));
    expect(summary.errors).toEqual([]);
    const sent = delivered('edr.darktrace.respond.model_breach') as { pbid: number; comment: string }[];
    expect(sent.map((b) => [b.pbid, b.comment])).toEqual([[breach.pbid, '<html><head><title>Log In | Darktrace</title></head></html>']]);
  });

  it('a redirect to /login also gives SetupError 102; another HTTP error in setup gives 103', async () => {
    const sim = await simulator();
    sim.faults.inject({ kind: 'redirect-login', on: '/status' });
    const login = await runOnce(newWorkDir(), darktraceConfig(credentialsFor(sim), breachesOnly()));
    expect(login.summary.errors[0]).toMatch(/^SetupError 102: .*redirected to \/login/);

    const teapot = await simulator();
    teapot.faults.inject({ kind: 'status', status: 500, on: '/status', times: 100 });
    const { runtime } = runtimeFor(newWorkDir(), darktraceConfig(credentialsFor(teapot), breachesOnly()));
    const { errors } = await runtime.runOnce();
    expect(errors[0]).toMatch(/^SetupError 103: Unexpected HTTP error occurred at the Darktrace server\. status code, 500 error: GET \/status: /);
  });

  it('a data endpoint failing with 5xx after the retries gives PullError 300', async () => {
    const sim = await simulator();
    sim.faults.inject({ kind: 'status', status: 500, on: '/modelbreaches', times: 100 });
    const { runtime } = runtimeFor(newWorkDir(), darktraceConfig(credentialsFor(sim), breachesOnly()));
    const summary = await runtime.runOnce();
    const breachError = summary.services.find((s) => s.service === 'modelbreaches')!.lastError;
    expect(breachError).toMatch(/^PullError 300: HTTP Error occurred while retrieving events from Darktrace server: summary HTTP 500 on GET \/modelbreaches details <html>/);
    // A slot that could be split is first tried without retries (to tell a timeout from an error), then
    // with the transport's 5 retries.
    expect(sim.requests.filter((r) => r.path === '/modelbreaches')).toHaveLength(7);
  });

  it('an unreachable instance gives SetupError 100', async () => {
    const sim = await simulator();
    const url = sim.url;
    await closeSimulators();
    const { runtime } = runtimeFor(newWorkDir(), darktraceConfig({ ...credentialsFor(sim), instance: url }, breachesOnly()));
    const summary = await runtime.runOnce();
    expect(summary.errors[0]).toMatch(/^SetupError 100: Error occurred while requesting from the Darktrace server\. Error message: /);
  });
});

describe('config validation (--validate) with the manual IDs', () => {
  const good = { public_token: 'pub-token', private_token: 'priv-token', instance: 'dt.example.com' };
  async function validate(credentials: unknown, service: Record<string, unknown> = {}, name = 'modelbreaches'): Promise<CollectorError | undefined> {
    const runtime = new CollectorRuntime(darktraceCollector, { workDir: newWorkDir(), config: darktraceConfig(credentials, { [name]: service }, {}, CONSOLE), logStream: new (await import('node:stream')).PassThrough() });
    try {
      await runtime.validate();
      return undefined;
    } catch (error) {
      return error as CollectorError;
    }
  }
  const line = (e: CollectorError | undefined) => e?.toLine();

  it('accepts a good config, including a port and an explicit scheme', async () => {
    expect(await validate(good, { start_time_in_utc_format: '2024-05-14T00:00:00' })).toBeUndefined();
    expect(await validate({ ...good, instance: '10.1.2.3:8443' })).toBeUndefined();
    expect(await validate({ ...good, instance: 'https://dt.example.com' })).toBeUndefined();
  });

  it('credentials: 22 to 29, and 36 for a malformed instance', async () => {
    expect(line(await validate({}))).toBe('InitVariablesError 22: inputs.darktrace.credentials mandatory property is missing or empty (inputs.darktrace.credentials)');
    expect(line(await validate('text'))).toBe('InitVariablesError 23: inputs.darktrace.credentials property must be a dictionary (inputs.darktrace.credentials)');
    expect((await validate({ ...good, public_token: '' }))?.id).toBe(24);
    expect((await validate({ ...good, public_token: ['x'] }))?.id).toBe(25);
    expect((await validate({ ...good, private_token: undefined }))?.id).toBe(26);
    expect(line(await validate({ ...good, private_token: 12345 }))).toBe('InitVariablesError 27: inputs.darktrace.credentials.private_token property must be a string (inputs.darktrace.credentials.private_token)');
    expect((await validate({ ...good, instance: null }))?.id).toBe(28);
    expect((await validate({ ...good, instance: 42 }))?.id).toBe(29);
    expect(line(await validate({ ...good, instance: 'https://dt.example.com/some/path' }))).toMatch(/^InitVariablesError 36: inputs\.darktrace\.credentials\.instance "https:\/\/dt\.example\.com\/some\/path" is not a host name/);
  });

  it('service keys: 33, 34 (format and future), 35, and ours 37 to 40', async () => {
    const path = 'inputs.darktrace.services.modelbreaches';
    expect(line(await validate(good, { start_time_in_utc_format: 20240514 }))).toBe(`InitVariablesError 33: ${path}.start_time_in_utc_format property must be a string (${path}.start_time_in_utc_format)`);
    expect((await validate(good, { start_time_in_utc_format: '14/05/2024' }))?.id).toBe(34);
    expect(line(await validate(good, { start_time_in_utc_format: '2999-01-01T00:00:00Z' }))).toMatch(/^InitVariablesError 34: .* 2999-01-01T00:00:00Z is in the future/);
    expect(line(await validate(good, { override_time_window_interval_in_minutes: 'sixty' }))).toBe(
      `InitVariablesError 35: ${path}.override_time_window_interval_in_minutes property must be an int (${path}.override_time_window_interval_in_minutes)`,
    );
    expect((await validate(good, { override_time_window_interval_in_minutes: 0 }))?.id).toBe(37);
    expect((await validate(good, { lookback_in_minutes: -5 }))?.id).toBe(38);
    expect((await validate(good, { override_time_delay_in_seconds: 1.5 }))?.id).toBe(39);
    expect((await validate(good, { request_timeout_in_seconds: 0 }))?.id).toBe(42);
    expect(line(await validate(good, { override_base_url: 'ftp://x/y' }))).toBe(
      `InitVariablesError 41: ${path}.override_base_url must be an http(s) URL without a path, or a host with an optional port (${path}.override_base_url)`,
    );
    expect(line(await validate(good, { includebreachurl: 'yes' }))).toBe(`InitVariablesError 40: ${path}.includebreachurl property must be a boolean (true or false) (${path}.includebreachurl)`);
  });

  it("every one of the five services takes Devo's keys, with the same IDs", async () => {
    for (const name of ['antigena', 'aianalyst_incidentevents', 'summarystatistics', 'status', 'modelbreaches']) {
      const path = `inputs.darktrace.services.${name}`;
      const devoKeys = { start_time_in_utc_format: '2024-05-14T00:00:00Z', request_period_in_seconds: 300, override_devo_tag: 'my.app.darktrace', override_time_window_interval_in_minutes: 30 };
      expect(await validate(good, devoKeys, name)).toBeUndefined();
      expect(line(await validate(good, { start_time_in_utc_format: 'yesterday' }, name))).toMatch(new RegExp(`^InitVariablesError 34: ${path}\\.start_time_in_utc_format does not match`));
      expect((await validate(good, { override_time_window_interval_in_minutes: 'sixty' }, name))?.id).toBe(35);
    }
  });
});
