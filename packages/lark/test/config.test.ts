import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CollectorError, planWindows } from '@collector/sdk';
import { CollectorRuntime } from '@collector/sdk/host';
import { auditInfosWindowPolicy, isThrottled, larkCollector, rateLimitResetMs, usableTokenSeconds, type AuditInfosCheckpoint, type AuditInfosOptions } from '@collector/lark';
import { larkConfig as deliveringConfig, workDir } from './helpers.js';

// --validate needs an output in the config (the delivering tests bring their own receivers instead).
const larkConfig = (url: string, service: Record<string, unknown> = {}, input: Record<string, unknown> = {}) => ({ ...deliveringConfig(url, service, input), outputs: { console_1: { type: 'console' } } });

async function validationError(service: Record<string, unknown>): Promise<CollectorError> {
  const runtime = new CollectorRuntime(larkCollector, { workDir: workDir(), config: larkConfig('https://open.larksuite.com', service), logStream: new PassThrough() });
  try {
    await runtime.validate();
  } catch (error) {
    return error as CollectorError;
  } finally {
    await runtime.stop().catch(() => undefined);
  }
  throw new Error('validate() accepted the config');
}

describe('config validation (--validate: no network)', () => {
  const path = 'inputs.lark.services.audit_infos.initial_start_time_in_utc_value';

  it('a start time in the future is InitVariablesError 2', async () => {
    const error = await validationError({ initial_start_time_in_utc_value: '2099-01-01T00:00:00Z' });
    expect(error.toLine()).toBe(`InitVariablesError 2: Date 2099-01-01T00:00:00Z is in the future (${path})`);
  });

  it.each(['2024-13-01T00:00:00Z', 'yesterday', '01/02/2024', '2024-02-30T00:00:00Z'])('a malformed start time (%s) is InitVariablesError 1', async (value) => {
    const error = await validationError({ initial_start_time_in_utc_value: value });
    expect(error.toLine()).toBe(`InitVariablesError 1: initial_start_time_in_utc is not set as per the datetime_format : YYYY-MM-DDTHH:MM:SSZ (${path})`);
  });

  it.each(['2024-01-01T00:00:00Z', '2024-01-01T00:00:00', '2024-01-01T00:00:00.123Z', '2024-01-01T02:00:00+02:00'])('accepts %s', async (value) => {
    const runtime = new CollectorRuntime(larkCollector, { workDir: workDir(), config: larkConfig('https://open.larksuite.com', { initial_start_time_in_utc_value: value }), logStream: new PassThrough() });
    await expect(runtime.validate()).resolves.toBeUndefined();
  });

  it.each([null, ''])('an empty start time (%j) means unset: the first pull starts 7 days back', async (value) => {
    const runtime = new CollectorRuntime(larkCollector, { workDir: workDir(), config: larkConfig('https://open.larksuite.com', { initial_start_time_in_utc_value: value }), logStream: new PassThrough() });
    await expect(runtime.validate()).resolves.toBeUndefined();
  });

  it('a base URL that is not http(s) is InitVariablesError 3', async () => {
    const error = await validationError({ override_base_url: 'open.larksuite.com' });
    expect(error.toLine()).toMatch(/^InitVariablesError 3: override_base_url <open\.larksuite\.com> is not an http\(s\) URL/);
  });

  it('missing credentials are a config error naming the key', () => {
    const config = larkConfig('https://open.larksuite.com', {}, { credentials: { app_id: 'cli_x' } });
    expect(() => new CollectorRuntime(larkCollector, { workDir: workDir(), config, logStream: new PassThrough() })).toThrow(/app_secret/);
  });
});

describe('building blocks', () => {
  it('reuses a token for at most 40 minutes and refreshes it early', () => {
    expect(usableTokenSeconds(7200)).toBe(40 * 60 - 180);
    expect(usableTokenSeconds(1200)).toBe(1200 - 120);
    expect(usableTokenSeconds(10)).toBe(9);
    expect(usableTokenSeconds(undefined)).toBe(40 * 60 - 180);
  });

  it('detects throttling by status or body code and reads x-ogw-ratelimit-reset', () => {
    const response = (status: number, text: string, headers: Record<string, string> = {}) => ({ status, text, headers, url: '', json: () => JSON.parse(text) });
    expect(isThrottled(response(429, ''))).toBe(true);
    expect(isThrottled(response(400, '{"code":99991400,"msg":"request trigger frequency limit"}'))).toBe(true);
    expect(isThrottled(response(200, '{"code":99991400,"msg":"request trigger frequency limit"}'))).toBe(true);
    expect(isThrottled(response(200, '{"code":0,"data":{}}'))).toBe(false);
    expect(rateLimitResetMs(response(429, '', { 'x-ogw-ratelimit-reset': '52' }))).toBe(52_000);
    expect(rateLimitResetMs(response(429, ''))).toBeUndefined();
  });

  it('starts at the configured time, then at the checkpoint minus the look-back, never before the configured start', () => {
    const now = new Date('2024-06-24T08:00:00Z');
    const pullStart = (options: AuditInfosOptions, checkpoint: AuditInfosCheckpoint | undefined, at: Date) => planWindows(auditInfosWindowPolicy(options, at), checkpoint, at).windows[0]!.start;
    const configured = { initial_start_time_in_utc_value: '2024-06-24T00:00:00Z', lookback_in_seconds: 300 };
    expect(pullStart(configured, undefined, now).toISOString()).toBe('2024-06-24T00:00:00.000Z');
    const checkpoint = { latest: Date.parse('2024-06-24T07:00:00Z') / 1000 };
    expect(pullStart(configured, checkpoint, now).toISOString()).toBe('2024-06-24T06:55:00.000Z');
    expect(pullStart({ ...configured, lookback_in_seconds: 86_400 }, checkpoint, now).toISOString()).toBe('2024-06-24T00:00:00.000Z');
    // Without a configured start: 7 days back at first, and a long outage later is still caught up in full.
    expect(pullStart({}, undefined, now).toISOString()).toBe('2024-06-17T08:00:00.000Z');
    expect(pullStart({}, { latest: Date.parse('2024-05-01T00:00:00Z') / 1000 }, now).toISOString()).toBe('2024-04-30T23:55:00.000Z');
  });
});
