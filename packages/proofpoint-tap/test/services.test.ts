import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient, jsonRecords, type HttpResponse } from '@collector/sdk';
import { CollectorRuntime, savedDedupKeys, stateFileName } from '@collector/sdk/host';
import { fetchSiemWindow, previousSiemDedupKey, proofpointTapCollector, siemDedupKey, START_TIME_CLAMPED_WARNING } from '../src/index.js';
import { SIEM_IDENTITY_FIELDS } from '../src/services/siem-service.js';
import { closeAll, config, DAY, HOUR, isoAgo, runOnce, SERVICES, simulator, stateText, workDir } from './helpers.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { generateProofpointEvents } from '@collector/simulators';

afterEach(closeAll);

const TAGS = {
  messagesBlocked: 'mail.proofpoint.tapsiem_v2.messagesblocked',
  messagesDelivered: 'mail.proofpoint.tapsiem_v2.messagesdelivered',
  clicksBlocked: 'mail.proofpoint.tapsiem_v2.clicksblocked',
  clicksPermitted: 'mail.proofpoint.tapsiem_v2.clickspermitted',
} as const;

const withoutPullingId = (e: Record<string, unknown>) => {
  const { ['@devo_pulling_id']: _id, ...rest } = e;
  return rest;
};
const ids = (events: Record<string, unknown>[]) => events.map((e) => String(e['id'])).sort();

describe('proofpoint_tap: the four services', () => {
  it('delivers every record of all four services once, as Proofpoint sent it, with the manual tags and log lines', async () => {
    const sim = await simulator();
    const from = Date.now() - 3 * HOUR;
    const to = Date.now() - 5 * 60_000;
    for (const [i, service] of SERVICES.entries()) sim.generate({ service, count: 20, from, to, recipientsPerMessage: 2, seed: 100 + i });
    const dir = workDir();
    const { out, summary, logs } = await runOnce(dir, config(sim, { common: { start_time_in_utc_format: isoAgo(3 * HOUR + 60_000) } }));
    expect(summary.errors.join(' | ')).toBe('');
    for (const service of SERVICES) {
      const delivered = out.events(TAGS[service]);
      expect(ids(delivered)).toEqual(ids(sim.events(service)));
      // Exactly the vendor record plus @devo_pulling_id: no envelope, no renamed field.
      const byId = new Map(sim.events(service).map((e) => [e['id'], e]));
      for (const e of delivered) expect(withoutPullingId(e)).toEqual(byId.get(e['id']));
    }
    expect(out.records).toHaveLength(20 * 2 * 2 + 20 * 2);
    // One-hour windows with interval=<start>/<end>, never refused.
    expect(sim.requests.every((r) => r.status === 200 || r.status === 204)).toBe(true);
    for (const r of sim.requests) expect(r.interval!.end - r.interval!.start).toBeLessThanOrEqual(HOUR);
    expect(logs).toMatch(/Time Window FROM: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00 TO: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00/);
    expect(logs).toContain('ProofPointPuller(proofpoint_tap,123456,clicksPermitted,predefined)');
    expect(logs).toMatch(/Number of requests made: \d+; Number of events received: 40; Number of duplicated events filtered out: 0; Number of events generated and sent: 40/);
    // The clicks/permitted requests went to their own pool.
    expect(sim.requests.filter((r) => r.pool === 'clicksPermitted').every((r) => r.path === '/v2/siem/clicks/permitted')).toBe(true);
  });

  it('delivers every recipient of a message (records share GUID and messageTime), and dedup keys differ', async () => {
    const sim = await simulator();
    const records = sim.generate({ service: 'messagesDelivered', count: 5, from: Date.now() - 2 * HOUR, to: Date.now() - 10 * 60_000, recipientsPerMessage: 4 });
    const guids = new Set(records.map((r) => r['GUID']));
    expect(guids.size).toBe(5);
    const dir = workDir();
    const { out, summary } = await runOnce(dir, config(sim, { services: { messagesDelivered: { start_time_in_utc_format: isoAgo(2 * HOUR + 60_000) } } }));
    expect(summary.errors.join(' | ')).toBe('');
    const delivered = out.events();
    expect(delivered).toHaveLength(20);
    for (const guid of guids) {
      const recipients = delivered.filter((e) => e['GUID'] === guid).map((e) => (e['recipient'] as string[])[0]);
      expect(new Set(recipients).size).toBe(4);
      expect(new Set(delivered.filter((e) => e['GUID'] === guid).map((e) => e['messageTime'])).size).toBe(1);
    }
    expect(new Set(records.map(siemDedupKey)).size).toBe(20);
    // The same record in another key order is the same record.
    const reordered = Object.fromEntries(Object.entries(records[0]!).reverse());
    expect(siemDedupKey(reordered)).toBe(siemDedupKey(records[0]));
    // A re-classified threat is new information: the record's key changes with the threat's status.
    const reclassified = structuredClone(records[0]!);
    (reclassified['threatsInfoMap'] as Record<string, unknown>[])[0]!['threatStatus'] = 'falsePositive';
    expect(siemDedupKey(reclassified)).not.toBe(siemDedupKey(records[0]));
  });

  it('a dedup window saved by the earlier key format still drops what it delivered: the upgrade sends nothing twice', async () => {
    const sim = await simulator();
    const records = sim.generate({ service: 'clicksPermitted', count: 20, from: Date.now() - 50 * 60_000, to: Date.now() - 3 * 60_000 });
    const dir = workDir();
    const cfg = config(sim, { services: { clicksPermitted: { start_time_in_utc_format: isoAgo(HOUR) } } });
    expect((await runOnce(dir, cfg)).out.records).toHaveLength(20);
    // The state as the earlier version left it: its keys, and a cursor whose look-back re-reads all 20.
    const file = join(dir, 'state', stateFileName('proofpoint_tap;123456;clicksPermitted'));
    const state = JSON.parse(readFileSync(file, 'utf8'));
    state.dedup = records.map((r) => previousSiemDedupKey.compute(r));
    state.checkpoint = { cursor: isoAgo(55 * 60_000), queried_at: new Date(Date.now() - 55 * 60_000).toISOString() };
    writeFileSync(file, JSON.stringify(state));
    const upgraded = await runOnce(dir, cfg);
    expect(upgraded.summary.errors.join(' | ')).toBe('');
    expect(upgraded.logs).toContain('The saved dedup keys were made by an earlier version');
    expect(upgraded.out.records).toHaveLength(0);
    expect(upgraded.summary.services[0]!.duplicates).toBe(20);
    // The window now holds the new keys of those records, so the next look-back needs the earlier ones no more.
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { dedup: string | string[] };
    expect(savedDedupKeys(saved.dedup)).toEqual(expect.arrayContaining(records.map(siemDedupKey)));
    saved.dedup = savedDedupKeys(saved.dedup).filter((key) => !previousSiemDedupKey.recognises(key));
    writeFileSync(file, JSON.stringify({ ...saved, checkpoint: state.checkpoint }));
    const next = await runOnce(dir, cfg);
    expect(next.logs).not.toContain('earlier version');
    expect(next.out.records).toHaveLength(0);
  });

  it('turns 204 and empty arrays into no events, and still moves the cursor', async () => {
    for (const emptyResponse of [204, 'arrays'] as const) {
      const sim = await simulator({ emptyResponse });
      const dir = workDir();
      const { out, summary } = await runOnce(dir, config(sim, { common: { start_time_in_utc_format: isoAgo(2 * HOUR) } }));
      expect(summary.errors.join(' | ')).toBe('');
      expect(out.records).toHaveLength(0);
      expect(sim.requests.length).toBeGreaterThanOrEqual(8);
      expect(sim.requests.every((r) => r.status === (emptyResponse === 204 ? 204 : 200))).toBe(true);
      for (const s of summary.services) expect(Date.parse((s.checkpoint as { cursor: string }).cursor)).toBeGreaterThan(Date.now() - 3 * 60_000);
    }
  });

  it('a restart continues from the checkpoint without duplicates', async () => {
    const sim = await simulator();
    sim.generate({ service: 'clicksBlocked', count: 30, from: Date.now() - 3 * HOUR, to: Date.now() - 3 * 60_000 });
    const dir = workDir();
    const cfg = config(sim, { services: { clicksBlocked: { start_time_in_utc_format: isoAgo(3 * HOUR + 60_000) } } });
    const first = await runOnce(dir, cfg);
    expect(first.out.records).toHaveLength(30);
    // New events after the first run, then a restart (a new runtime on the same state directory).
    sim.generate({ service: 'clicksBlocked', count: 3, from: Date.now() - 150_000, to: Date.now() - 70_000, seed: 99 });
    const second = await runOnce(dir, cfg);
    expect(second.summary.errors).toEqual([]);
    expect(second.out.records).toHaveLength(3);
    expect(second.summary.services[0]!.duplicates).toBeGreaterThan(0);
    const all = [...first.out.events(), ...second.out.events()];
    expect(new Set(all.map((e) => e['id'])).size).toBe(33);
    // A third run right away: nothing new, nothing repeated.
    const third = await runOnce(dir, cfg);
    expect(third.out.records).toHaveLength(0);
  });

  it('a late-indexed event inside the look-back is delivered exactly once', async () => {
    const sim = await simulator();
    sim.generate({ service: 'messagesBlocked', count: 10, from: Date.now() - 2 * HOUR, to: Date.now() - 5 * 60_000 });
    const dir = workDir();
    const cfg = config(sim, { services: { messagesBlocked: { start_time_in_utc_format: isoAgo(2 * HOUR + 60_000) } } });
    // Created 10 minutes ago, inside a window the first run asks for, but indexed only after it.
    const late = generateProofpointEvents({ service: 'messagesBlocked', count: 1, from: Date.now() - 10 * 60_000, to: Date.now() - 9 * 60_000, seed: 5 });
    sim.addLateEvents('messagesBlocked', late);
    const first = await runOnce(dir, cfg);
    expect(first.out.records).toHaveLength(10);
    expect(first.out.events().some((e) => e['id'] === late[0]!['id'])).toBe(false);
    sim.releaseLateEvents();
    const second = await runOnce(dir, cfg);
    expect(second.out.events().map((e) => e['id'])).toEqual([late[0]!['id']]);
    expect(second.summary.services[0]!.duplicates).toBeGreaterThan(0);
    const third = await runOnce(dir, cfg);
    expect(third.out.records).toHaveLength(0);
  });

  it('clamps a start more than 7 days back with the manual warning, and Proofpoint never refuses a window', async () => {
    const sim = await simulator();
    sim.generate({ service: 'clicksPermitted', count: 5, from: Date.now() - 6 * DAY, to: Date.now() - 5 * DAY });
    const dir = workDir();
    const { out, summary, logs } = await runOnce(dir, config(sim, { services: { clicksPermitted: { start_time_in_utc_format: isoAgo(9 * DAY) } } }));
    expect(summary.errors.join(' | ')).toBe('');
    expect(logs).toContain(START_TIME_CLAMPED_WARNING);
    expect(out.records).toHaveLength(5);
    expect(sim.requests.every((r) => r.status === 204 || r.status === 200)).toBe(true);
    expect(sim.requests[0]!.interval!.start).toBeGreaterThanOrEqual(Date.now() - 7 * DAY);
    // 7 days in one-hour windows: about 168 requests, not thousands.
    expect(sim.requests.length).toBeLessThanOrEqual(170);
  }, 30_000);

  it('after more than 7 days down it says which range is lost and continues from 7 days back', async () => {
    const sim = await simulator();
    const dir = workDir();
    // No start time configured: the first pull starts 24 h back, and nothing holds a later one back.
    const cfg = config(sim, { services: { clicksBlocked: {} } });
    await runOnce(dir, cfg);
    const file = join(dir, 'state', stateFileName('proofpoint_tap;123456;clicksBlocked'));
    const state = JSON.parse(readFileSync(file, 'utf8'));
    state.checkpoint = { cursor: isoAgo(8 * DAY), queried_at: new Date(Date.now() - 8 * DAY).toISOString() };
    writeFileSync(file, JSON.stringify(state));
    sim.generate({ service: 'clicksBlocked', count: 3, from: Date.now() - 6 * DAY, to: Date.now() - 5 * DAY });
    const before = sim.requests.length;
    const { out, logs, summary } = await runOnce(dir, cfg);
    expect(summary.errors.join(' | ')).toBe('');
    expect(logs).toMatch(/Proofpoint keeps 7 days: events created from \S+ \S+ to \S+ \S+ can no longer be fetched; continuing from/);
    expect(out.records).toHaveLength(3);
    expect(sim.requests.slice(before).every((r) => r.status === 200 || r.status === 204)).toBe(true);
  }, 30_000);

  it('a changed start time resets the persistence', async () => {
    const sim = await simulator();
    sim.generate({ service: 'clicksBlocked', count: 4, from: Date.now() - HOUR, to: Date.now() - 5 * 60_000 });
    const dir = workDir();
    await runOnce(dir, config(sim, { services: { clicksBlocked: { start_time_in_utc_format: isoAgo(HOUR + 60_000) } } }));
    const again = await runOnce(dir, config(sim, { services: { clicksBlocked: { start_time_in_utc_format: isoAgo(HOUR + 120_000) } } }));
    expect(again.out.records).toHaveLength(4);
    expect(again.logs).toMatch(/persistence/i);
  });
});

describe('proofpoint_tap: errors', () => {
  it('bad credentials: SetupError 100 with the manual cause, and no secret in logs or state', async () => {
    const sim = await simulator();
    const dir = workDir();
    const wrong = 'Wr0ng-Password-Value-77';
    const { summary, logs } = await runOnce(dir, config(sim, { password: wrong, services: { messagesBlocked: { start_time_in_utc_format: isoAgo(HOUR) } } }));
    expect(summary.ok).toBe(false);
    expect(summary.errors[0]).toMatch(/^SetupError 100: username and password is not correct: Proofpoint answered HTTP 401 Unauthorized \(inputs\.proofpoint_tap\.credentials\)$/);
    expect(logs).toContain('SetupError 100');
    expect(logs).not.toContain(wrong);
    expect(logs).not.toContain(Buffer.from(`${sim.principal}:${wrong}`).toString('base64'));
    expect(stateText(dir)).not.toContain(wrong);
  });

  it('after a 401 no service asks again for 15 minutes (wrong credentials must not burn the budget)', async () => {
    const sim = await simulator();
    const client = { authorization: `Basic ${Buffer.from(`${sim.principal}:nope-nope-nope`).toString('base64')}`, credentialsPath: 'inputs.proofpoint_tap.credentials', credentialsRejectedUntil: 0, describedPools: new Set<string>() };
    const query = { baseUrl: sim.url, path: '/v2/siem/clicks/blocked', arrayKeys: ['clicksBlocked'], pool: 'default', start: new Date(Date.now() - HOUR), end: new Date(Date.now() - 60_000) };
    const http = new HttpClient();
    await expect(fetchSiemWindow(http, client, query)).rejects.toThrow(/username and password is not correct: Proofpoint answered HTTP 401 Unauthorized$/);
    await expect(fetchSiemWindow(http, client, { ...query, path: '/v2/siem/clicks/permitted' })).rejects.toThrow(/not asked again before \S+Z, to save the request budget/);
    expect(sim.requests).toHaveLength(1);
    expect(client.credentialsRejectedUntil - Date.now()).toBeGreaterThan(14 * 60_000);
  });

  it('a good run never prints the secret or the Basic header, even with globals.debug', async () => {
    const sim = await simulator();
    sim.generate({ service: 'messagesBlocked', count: 3, from: Date.now() - HOUR, to: Date.now() - 5 * 60_000 });
    const dir = workDir();
    const cfg = config(sim, { services: { messagesBlocked: { start_time_in_utc_format: isoAgo(HOUR) } } });
    (cfg.globals as Record<string, unknown>)['debug'] = true;
    const { logs, summary } = await runOnce(dir, cfg);
    expect(logs).toContain('DEBUG');
    expect(summary.ok).toBe(true);
    expect(logs).not.toContain(sim.secret);
    expect(logs).not.toContain(Buffer.from(`${sim.principal}:${sim.secret}`).toString('base64'));
    expect(stateText(dir)).not.toContain(sim.secret);
  });

  it.each([
    ['yesterday', /SetupError 101: start_time_in_utc is in future or not in proper format: <yesterday> is not in the format YYYY-MM-DDTHH:MM:SSZ/],
    ['2999-01-01T00:00:00Z', /SetupError 101: start_time_in_utc is in future or not in proper format: 2999-01-01T00:00:00Z is in the future/],
  ])('start time %s: SetupError 101 from init, before any request', async (value, message) => {
    const sim = await simulator();
    const dir = workDir();
    const runtime = new CollectorRuntime(proofpointTapCollector, {
      workDir: dir,
      // A console output: a config without any output is itself a ConfigError (13) in the SDK.
      config: { ...config(sim, { services: { clicksPermitted: { start_time_in_utc_format: value } } }), outputs: { console_1: { type: 'console' } } },
      outputs: [],
      logStream: new PassThrough(),
    });
    const error = await runtime.validate().then(
      () => undefined,
      (e: unknown) => e as { toLine(): string },
    );
    expect(error?.toLine()).toMatch(message);
    expect(error?.toLine()).toContain('(inputs.proofpoint_tap.services.clicksPermitted.start_time_in_utc_format)');
    expect(sim.requests).toHaveLength(0);
  });

  it('an HTTP error is PullError 300 with status, summary and details; the cursor stays', async () => {
    // A Proofpoint that accepts only 30-minute intervals refuses our one-hour windows with HTTP 400.
    const sim = await simulator({ maxIntervalMs: 30 * 60_000 });
    const dir = workDir();
    const { summary } = await runOnce(dir, config(sim, { services: { messagesDelivered: { start_time_in_utc_format: isoAgo(3 * HOUR) } } }));
    expect(summary.errors[0]).toMatch(/^PullError 300: HTTP error 400 while fetching \/v2\/siem\/messages\/delivered: Bad Request - The requested interval is too long/);
    expect(summary.services[0]!.checkpoint ?? null).toBeNull();
  });

  it('a garbage body is PullError 301 and nothing is committed', async () => {
    const sim = await simulator();
    sim.faults.inject({ kind: 'garbage' });
    const dir = workDir();
    const { summary, out } = await runOnce(dir, config(sim, { services: { clicksBlocked: { start_time_in_utc_format: isoAgo(HOUR) } } }));
    expect(summary.errors[0]).toMatch(/^PullError 301: Some exception occurred while making the API request to \/v2\/siem\/clicks\/blocked: Invalid JSON/);
    expect(out.records).toHaveLength(0);
  });
});

describe('proofpoint_tap: dedup keys of forwarded records', () => {
  /** A SIEM answer's text as the HTTP client hands it over. */
  const response = (text: string): HttpResponse => ({ status: 200, headers: {}, text, url: 'https://tap.example/v2/siem', json: () => JSON.parse(text) as never });

  it('gives a record read as the text Proofpoint sent (as pulled) the same key, and the same earlier key, as the parsed record', () => {
    const records: Record<string, unknown>[] = [...generateProofpointEvents({ service: 'messagesDelivered', count: 10, from: Date.now() - HOUR, to: Date.now(), recipientsPerMessage: 2, seed: 5 }), ...generateProofpointEvents({ service: 'clicksPermitted', count: 5, from: Date.now() - HOUR, to: Date.now(), seed: 6 })];
    records.push({ summary: 'no GUID: the whole record is its identity', n: 1 }, { GUID: 'g', id: 'i', threatID: 't', threatStatus: 'cleared', clickTime: '2026-01-01T00:00:00Z' });
    const text = JSON.stringify({ queryEndTime: 'x', messagesDelivered: records });
    const scanned = jsonRecords(response(text), 'messagesDelivered', SIEM_IDENTITY_FIELDS).records;
    expect(scanned.map(siemDedupKey)).toEqual(records.map(siemDedupKey));
    expect(scanned.map(previousSiemDedupKey.compute)).toEqual(records.map(previousSiemDedupKey.compute));
  });

  it('keeps the keys the previous version saved (escaped, null, non-string and array fields; read from the text or parsed)', () => {
    // Keys computed by main at 815209c: a dedup window saved by it must still drop these records.
    const records = [
      { GUID: 'g"1', id: 'id-1', recipient: ['a@x', 'b@x'], messageTime: '2026-01-01T00:00:00.000Z', threatsInfoMap: [{ threatID: 't1', threatStatus: 'active' }, null, { threatID: 5 }] },
      { GUID: 'g2', id: 'id-2', recipient: 'c@x', messageTime: null, clickTime: '2026-01-01T00:00:01.000Z', threatID: 't\\2', threatStatus: 'cleared' },
      { GUID: 'g3', id: 7, recipient: 'c@x' },
      // recipient arrays: empty, with an escaped quote, mixed (null, nested, a number), non-ASCII and empty strings
      { GUID: 'g4', id: 'i4', recipient: [], messageTime: 't' },
      { GUID: 'g5', id: 'i5', recipient: ['a"b@x', 'c@x'], messageTime: 't' },
      { GUID: 'g6', id: 'i6', recipient: ['a@x', null, ['b@x', 'c@x'], 5], messageTime: 't' },
      { GUID: 'g7', id: 'i7', recipient: ['é@x', ''], messageTime: 't' },
      // threatsInfoMap: elements that are not objects, escaped and null values, a nested threatID, not an array, empty
      { GUID: 'g9', id: 'i9', recipient: ['a@x'], messageTime: 't', threatsInfoMap: ['s', [1], { threatID: 'a\nb', threatStatus: null }, {}, { threatStatus: 'falsePositive', threatID: 'z', extra: { threatID: 'no' } }] },
      { GUID: 'g10', id: 'i10', recipient: ['a@x'], messageTime: 't', threatsInfoMap: { threatID: 'x' } },
      { GUID: 'g11', id: 'i11', recipient: ['a@x'], messageTime: 't', threatsInfoMap: [] },
    ];
    const expected = ['.1hYVagMJTw0YOG5', '.Bjh1itPBWZaUns8', '.OShpL_0_-fZlFM4', '.7wr11lAA0hH9htZ', '.NYQlO3i6dSxCmoM', '.bi_QIoqYD2cUdsH', '.Nj-Vl7nFi0phI-g', '.4d1sVwSz8b1Vmhi', '.Sq-bQPtrbHF0ana', '.N7PjJSSpEpq8-uB'];
    expect(jsonRecords(response(JSON.stringify({ messagesDelivered: records })), 'messagesDelivered', SIEM_IDENTITY_FIELDS).records.map(siemDedupKey)).toEqual(expected);
    expect(records.map(siemDedupKey)).toEqual(expected);
    // A recipient array with spaces between its tokens is not read from the text but parsed: the same key.
    const spaced = '{"messagesDelivered":[{"GUID":"g8","id":"i8","recipient":[ "a@x" , "b@x" ],"messageTime":"t"}]}';
    expect(jsonRecords(response(spaced), 'messagesDelivered', SIEM_IDENTITY_FIELDS).records.map(siemDedupKey)).toEqual(['.yy3nCAIOIyJpXj0']);
  });

  it('reads one threat from the text only where that gives what the parse gives (threatsInfoMap as Proofpoint writes it, and near misses)', () => {
    const threats = [
      '[{"threatID":"t1","threatStatus":"active","classification":"phish","threatUrl":"https://x/t1","campaignID":null}]',
      '[{"threatStatus":"cleared","threatID":"t2"}]',
      '[{"threatID":null,"threatStatus":true}]',
      '[{"threatID":"a","threatID":"b","threatStatus":false}]',
      '[{"x":"threatID","threatID":"c","threatStatus":"active"}]',
      '[{"threatID":"d","x":"threatID","threatStatus":"active"}]',
      '[{"threatID" :"e","threatStatus": "active"}]',
      '[{"threatID":"f","threatID" :"g","threatStatus":"active"}]',
      '[{"threatID":1.0,"threatStatus":"active"}]',
      '[{"threatID":"h","threatStatus":"active","url":"https://x/{a}"}]',
      '[{"threatID":"i","threatStatus":"act\\u0069ve"}]',
      '[{"threatID":"j","threatStatus":"active","o":{"threatID":"no"}}]',
      '[{"threatID":"k","threatStatus":"active","a":["threatID"]}]',
      '[{"threatID":"l","threatStatus":"active"},{"threatID":"m","threatStatus":"cleared"}]',
      '[ {"threatID":"n","threatStatus":"active"} ]',
      '[{}]',
      '[]',
      '[null]',
      '{"threatID":"o"}',
      'null',
    ];
    const records = threats.map((t, i) => `{"GUID":"g${i}","id":"i${i}","recipient":["a@x"],"messageTime":"t","threatsInfoMap":${t}}`);
    const scanned = jsonRecords(response(`{"messagesDelivered":[${records.join(',')},{"GUID":"g","id":"i","recipient":["a@x"],"messageTime":"t"}]}`), 'messagesDelivered', SIEM_IDENTITY_FIELDS).records;
    const parsed = [...records.map((r) => JSON.parse(r) as Record<string, unknown>), { GUID: 'g', id: 'i', recipient: ['a@x'], messageTime: 't' }];
    expect(scanned.map(siemDedupKey)).toEqual(parsed.map(siemDedupKey));
    expect(new Set(parsed.map(siemDedupKey)).size).toBe(parsed.length);
  });
});
