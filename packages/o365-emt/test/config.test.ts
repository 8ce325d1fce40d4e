import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type InitVariablesError } from '@collector/sdk';
import { CollectorRuntime, createLogger } from '@collector/sdk/host';
import {
  GRAPH_DEFAULT_REQUESTS_LIMITS,
  graphCollectionUrl,
  graphDedupKey,
  o365EmtCollector,
  office365MessageTraceInput,
  parseRwsPage,
  rwsDedupKey,
  rwsReceivedMs,
  rwsServiceRoot,
  startOfPull,
} from '@collector/o365-emt';
import { CLIENT_ID, CLIENT_SECRET, DAY, TENANT, makeConfig, tempDir } from './helpers.js';

const RWS = 'office365_exchange_message_service';
const GRAPH = 'office365_exchange_message_graph_service';

async function validate(config: unknown): Promise<string> {
  const runtime = new CollectorRuntime(o365EmtCollector, { workDir: tempDir(), config: { outputs: { console_1: { type: 'console' } }, ...(config as object) }, logStream: new PassThrough() });
  try {
    await runtime.validate();
    return 'valid';
  } catch (error) {
    return (error as InitVariablesError).toLine();
  }
}

const cfg = (service: Record<string, unknown>, input: Record<string, unknown> = {}, credentials?: Record<string, unknown>) =>
  makeConfig(undefined, { input: { max_historic_date_cutoff_days_back: 10, ...input }, services: { [RWS]: service }, ...(credentials ? { credentials } : {}) });

describe('configuration (--validate): the manual\'s InitVariablesError IDs', () => {
  it('accepts the manual\'s example values, including the quoted numbers of its JSON form', async () => {
    expect(await validate(cfg({ requests_timeout_in_seconds: 30, reset_persistence_auth: '2024-05-01', override_time_delay_in_seconds: 90000 }, { max_historic_date_cutoff_days_back: '10', max_historic_date_margin_seconds: '60' }))).toBe('valid');
    expect(await validate(makeConfig(undefined, { services: { [GRAPH]: {} } }))).toBe('valid');
  });

  it.each([
    [{}, undefined, {}, /^InitVariablesError 0: credentials section does not exist on the configuration file or is empty \(inputs\.office365_exchange_message\.credentials\)$/],
    [{}, undefined, { tenant_id: '', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }, /^InitVariablesError 2: tenant_id doesn't exist on the configuration file or is empty \(inputs\.office365_exchange_message\.credentials\.tenant_id\)$/],
    [{}, undefined, { tenant_id: ['x'], client_id: CLIENT_ID, client_secret: CLIENT_SECRET }, /^InitVariablesError 3: tenant_id must be an string/],
    [{}, undefined, { tenant_id: TENANT, client_secret: CLIENT_SECRET }, /^InitVariablesError 4: client_id doesn't exist/],
    [{}, undefined, { tenant_id: TENANT, client_id: CLIENT_ID, client_secret: { a: 1 } }, /^InitVariablesError 5: client_secret must be an string/],
    [{ override_base_url: '' }, undefined, undefined, /^InitVariablesError 8: override_base_url doesn't exist/],
    [{ override_base_url: 'reports dot com' }, undefined, undefined, /^InitVariablesError 9: override_base_url must be a valid URL/],
    [{ override_base_auth_url: 42 }, undefined, undefined, /^InitVariablesError 3: override_base_auth_url must be an string/],
    [{ requests_timeout_in_seconds: 'soon' }, undefined, undefined, /^InitVariablesError 13: requests_timeout_in_seconds is not a float instance/],
    [{ reset_persistence_auth: 'yesterday' }, undefined, undefined, /^InitVariablesError 18: Optional setting: <reset_persistence_auth> must be a date as YYYY-MM-DD/],
    [{ reset_persistence_auth: 20240101 }, undefined, undefined, /^InitVariablesError 18: Optional setting: <reset_persistence_auth> not of expected type: str/],
    [{ override_time_delay_in_seconds: 'a day' }, undefined, undefined, /^InitVariablesError 19: Optional setting: <override_time_delay_in_seconds> not of expected type: int/],
    [{ override_time_delay_in_seconds: 172801 }, undefined, undefined, /^InitVariablesError 20: Optional setting: <override_time_delay_in_seconds> is out of range \(1 to 172800\) \(inputs\.office365_exchange_message\.services\.office365_exchange_message_service\.override_time_delay_in_seconds\)$/],
    [{ override_time_delay_in_seconds: 0 }, undefined, undefined, /^InitVariablesError 20: /],
    [{}, { max_historic_date_cutoff_days_back: 0 }, undefined, /^InitVariablesError 21: /],
    [{}, { max_historic_date_margin_seconds: 'x' }, undefined, /^InitVariablesError 22: /],
    [{ page_size: 2001 }, undefined, undefined, /^InitVariablesError 23: Optional setting: <page_size> must be an integer from 1 to 2000/],
    [{ lookback_in_seconds: -1 }, undefined, undefined, /^InitVariablesError 25: /],
    [{}, { max_historic_date_cutoff_days_back: 1 }, undefined, /^InitVariablesError 26: max_historic_date_cutoff_days_back \(1 d\) minus max_historic_date_margin_seconds \(60 s\) must reach further back than override_time_delay_in_seconds \(90000 s\)/],
    [{ token_endpoint: 'v3' }, undefined, undefined, /^InitVariablesError 27: /],
  ])('%j %j %j', async (service, input, credentials, expected) => {
    expect(await validate(cfg(service, input ?? {}, credentials))).toMatch(expected);
  });

  it('checks the Graph limits: $top up to 5000 and windows up to 10 days', async () => {
    expect(await validate(makeConfig(undefined, { services: { [GRAPH]: { page_size: 5001 } } }))).toMatch(/^InitVariablesError 23: Optional setting: <page_size> must be an integer from 1 to 5000/);
    expect(await validate(makeConfig(undefined, { services: { [GRAPH]: { max_window_in_seconds: 864001 } } }))).toMatch(/^InitVariablesError 24: /);
  });
});

describe('building blocks', () => {
  it('starts a first run at now − delay − 15 min (the original), --start-at minus the look-back when given, and clamps every start to now − cutoff + margin', () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (d) => lines.push(String(d)));
    const log = createLogger({ stream });
    const now = new Date('2026-03-20T12:00:00Z');
    const limits = { cutoffDays: 10, marginSeconds: 60 };
    const base = { now, limits, delaySeconds: 90_000, log };
    const clamped = startOfPull({ ...base, checkpoint: { start_time: '2026-02-01T00:00:00Z' }, lookbackSeconds: 0 });
    expect(clamped.toISOString()).toBe('2026-03-10T12:01:00.000Z');
    const kept = startOfPull({ ...base, checkpoint: { start_time: '2026-03-15T00:00:00Z' }, lookbackSeconds: 3600 });
    expect(kept.toISOString()).toBe('2026-03-14T23:00:00.000Z');
    // The seed's log: started 2022-12-21T13:17, first window from 2022-12-20T12:02 (25 h 15 min before).
    const fresh = startOfPull({ ...base, checkpoint: undefined, lookbackSeconds: 0, maxDaysBack: 90 });
    expect(fresh.toISOString()).toBe('2026-03-19T10:45:00.000Z');
    const cutover = startOfPull({ ...base, checkpoint: undefined, lookbackSeconds: 600, cutover: new Date('2026-03-12T08:00:00Z') });
    expect(cutover.toISOString()).toBe('2026-03-12T08:00:00.000Z');
    const tooOld = startOfPull({ ...base, checkpoint: undefined, lookbackSeconds: 0, cutover: new Date('2026-03-01T00:00:00Z') });
    expect(tooOld.toISOString()).toBe('2026-03-10T12:01:00.000Z');
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        const text = lines.join('');
        expect(text).toContain('The saved start 2026-02-01T00:00:00Z is older than the maximum historic date (-10 days, max_historic_date_cutoff_days_back): starting at 2026-03-10T12:01:00Z');
        expect(text).toContain('The --start-at start (minus lookback_in_seconds) 2026-03-01T00:00:00Z is older than the maximum historic date');
        expect(text).toContain('Validating the start and end time based on the maximum threshold (-10 days): 2026-03-10T12:01:00Z');
        resolve();
      }),
    );
  });

  it('reads both RWS JSON shapes and their times', () => {
    expect(parseRwsPage({ value: [{ a: 1 }], 'odata.nextLink': 'https://x/n' }, 'p')).toEqual({ rows: [{ a: 1 }], next: 'https://x/n' });
    expect(parseRwsPage({ d: { results: [{ a: 2 }], __next: 'https://x/m' } }, 'p')).toEqual({ rows: [{ a: 2 }], next: 'https://x/m' });
    expect(parseRwsPage({ d: [{ a: 3 }] }, 'p')).toEqual({ rows: [{ a: 3 }], next: undefined });
    expect(() => parseRwsPage({ error: 'x' }, 'p')).toThrow(/PullError|neither "value" nor "d.results"/);
    expect(rwsReceivedMs('/Date(1658751973240)/')).toBe(1658751973240);
    expect(rwsReceivedMs('2022-09-05T18:10:13.4907658')).toBe(Date.parse('2022-09-05T18:10:13.490Z'));
    expect(rwsReceivedMs('2022-09-05T18:10:13Z')).toBe(Date.parse('2022-09-05T18:10:13Z'));
  });

  it('dedup keys separate the recipients of one message and ignore the per-query Index', () => {
    const row = { MessageTraceId: 't1', MessageId: '<m@x>', RecipientAddress: 'a@x', Received: '2022-09-05T18:10:13.4907658', Status: 'Delivered', Index: 0 };
    expect(rwsDedupKey(row)).not.toBe(rwsDedupKey({ ...row, RecipientAddress: 'b@x' }));
    expect(rwsDedupKey(row)).toBe(rwsDedupKey({ ...row, Index: 7 }));
    expect(rwsDedupKey(row)).toBe(rwsDedupKey({ ...row, Received: `/Date(${Date.parse('2022-09-05T18:10:13.490Z')})/` }));
    const g = { id: 'g1', messageId: '<m@x>', recipientAddress: 'a@x', receivedDateTime: '2026-01-21T14:12:34Z', status: 'delivered' };
    expect(graphDedupKey(g)).not.toBe(graphDedupKey({ ...g, recipientAddress: 'b@x' }));
    expect(graphDedupKey(g)).not.toContain('a@x');
  });

  it('takes override URLs as a host, a root or the full resource URL', () => {
    expect(rwsServiceRoot('https://reports.office365.us')).toBe('https://reports.office365.us/ecp/reportingwebservice/reporting.svc');
    expect(rwsServiceRoot('https://outlook.office365.us/ecp/ReportingWebService/Reporting.svc/MessageTrace')).toBe('https://outlook.office365.us/ecp/ReportingWebService/Reporting.svc');
    expect(graphCollectionUrl('https://graph.microsoft.com')).toBe('https://graph.microsoft.com/v1.0/admin/exchange/tracing/messageTraces');
    expect(graphCollectionUrl('https://graph.microsoft.com/beta')).toBe('https://graph.microsoft.com/beta/admin/exchange/tracing/messageTraces');
  });

  it('defaults Graph to the tenant throttle (100 requests / 5 min) and keeps RWS in its own pool', () => {
    expect(office365MessageTraceInput.requestsLimits).toEqual(GRAPH_DEFAULT_REQUESTS_LIMITS);
    expect(GRAPH_DEFAULT_REQUESTS_LIMITS).toEqual([{ period: '5m', number_of_requests: 100 }]);
    expect(office365MessageTraceInput.requestPools).toEqual({ rws: [] });
    expect(office365MessageTraceInput.obfuscate).toEqual(['tenant_id', 'client_id', 'client_secret']);
    expect(DAY).toBe(86_400_000);
  });
});
