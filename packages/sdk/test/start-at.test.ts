import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { formatUtc } from '@collector/sdk';
import { runCollector } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';
import { exampleCollector, startExampleApi, type ExampleEvent } from './example-input.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function config(url: string, start: string, lookbackMs = 0) {
  return { inputs: { example: { id: 1, credentials: { token: 'good-token' }, services: { events: { start_time: start, override_base_url: url, lookback_ms: lookbackMs } } } } };
}

async function cli(argv: string[], cfg: unknown, workDir: string, output = new CapturingOutput()) {
  const logs = new PassThrough();
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  let stdout = '';
  logs.on('data', (d) => (text += d));
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (text += d));
  const code = await runCollector(exampleCollector, { argv, workDir, config: cfg, outputs: [output], logStream: logs, stdout: out, stderr: err, handleSignals: false, http: { backoffBaseMs: 20, maxBackoffMs: 50 } });
  return { code, text, stdout, ids: output.events('my.app.example.events').map((e) => String(e['id'])) };
}

describe('--start-at (cutover from another collector)', () => {
  it('rejects a value that is not an ISO 8601 UTC time, or is in the future, as a usage error (exit 2)', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'start-at-'));
    const cfg = config('http://127.0.0.1:1', '2024-01-01T00:00:00Z');
    for (const bad of ['yesterday', '2026-13-01T00:00:00Z', '2026-01-01', '2026-01-01T10:00:00']) {
      const { code, text } = await cli(['--once', '--start-at', bad], cfg, workDir);
      expect(code).toBe(2);
      expect(text).toContain(`UsageError 2: --start-at needs an ISO 8601 time in UTC such as YYYY-MM-DDTHH:MM:SSZ, e.g. --start-at `);
      expect(text).toContain(`(got ${JSON.stringify(bad)})`);
    }
    const future = await cli(['--once', '--start-at', '2999-01-01T00:00:00Z'], cfg, workDir);
    expect(future.code).toBe(2);
    expect(future.text).toContain('UsageError 3: --start-at 2999-01-01T00:00:00Z is in the future');
    expect((await cli(['--once', '--start-at'], cfg, workDir)).code).toBe(2);
  });

  it('a first run starts at T minus the look-back instead of the configured start; a service with state ignores it and says so', async () => {
    const now = Date.now();
    const events: ExampleEvent[] = [];
    for (let t = now - 10 * HOUR; t < now - MINUTE; t += 5 * MINUTE) events.push({ id: `e${t}`, t });
    const api = await startExampleApi(events);
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'start-at-'));
    const lookback = 20 * MINUTE;
    const cutover = new Date(now - 3 * HOUR);
    const cfg = config(api.url, new Date(now - 10 * HOUR - MINUTE).toISOString(), lookback);

    const shown = await cli(['--show-state', '--start-at', formatUtc(cutover)], cfg, workDir);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).services[0]).toEqual(expect.objectContaining({ state: 'none', start_at: formatUtc(cutover), starts: "at --start-at minus the service's look-back (no saved position)" }));

    const first = await cli(['--once', '--start-at', formatUtc(cutover)], cfg, workDir);
    expect(first.code).toBe(0);
    expect(first.text).toContain(`No saved position: starting at --start-at ${formatUtc(cutover)} (minus the service's look-back) instead of the configured start`);
    const expected = events.filter((e) => e.t >= cutover.getTime() - lookback).map((e) => e.id);
    expect(first.ids).toEqual(expected);
    expect(expected.length).toBeLessThan(events.length);

    // A restart with the flag still on the command line (a Kubernetes args list): the state wins.
    const again = await cli(['--once', '--start-at', formatUtc(new Date(now - 9 * HOUR))], cfg, workDir);
    expect(again.code).toBe(0);
    expect(again.text).toContain(`--start-at ${formatUtc(new Date(now - 9 * HOUR))} is ignored: this service has a saved position and resumes from it`);
    expect(again.ids).toEqual([]);
    const state = JSON.parse((await cli(['--show-state'], cfg, workDir)).stdout).services[0];
    expect(state).toEqual(expect.objectContaining({ state: 'found', starts: "from the saved position (checkpoint_time minus the service's look-back)" }));
  });

  it('is remembered until the first checkpoint: a restart without the flag does not fall back to the configured start', async () => {
    const now = Date.now();
    const api = await startExampleApi([{ id: 'old', t: now - 5 * HOUR }, { id: 'new', t: now - 30_000 }]);
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'start-at-'));
    const cfg = config(api.url, new Date(now - 6 * HOUR).toISOString());
    // The API is down for the first run: no checkpoint is reached.
    const down = await cli(['--once', '--start-at', formatUtc(new Date(now - HOUR))], config('http://127.0.0.1:1', new Date(now - 6 * HOUR).toISOString()), workDir);
    expect(down.code).toBe(1);
    const shown = JSON.parse((await cli(['--show-state'], cfg, workDir)).stdout).services[0];
    expect(shown).toEqual(expect.objectContaining({ start_at: formatUtc(new Date(now - HOUR)) }));
    const next = await cli(['--once'], cfg, workDir);
    expect(next.code).toBe(0);
    expect(next.ids).toEqual(['new']);
  });
});
