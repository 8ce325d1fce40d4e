import { afterEach, describe, expect, it } from 'vitest';
import { generateProofpointEvents } from '@collector/simulators';
import { closeAll, DAY, HOUR, simulator } from './helpers.js';

// The simulator must hold the collector to Proofpoint's contract (vendor-apis.md §4); these pin what it enforces.
afterEach(closeAll);

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function get(url: string, path: string, query: string, auth: string) {
  const res = await fetch(`${url}${path}?${query}`, { headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } });
  const text = await res.text();
  return { status: res.status, text, retryAfter: res.headers.get('retry-after') };
}

describe('Proofpoint TAP simulator contract', () => {
  it('enforces Basic auth, one time selector, intervals of 30 s to 1 h, and 7 days back', async () => {
    const sim = await simulator();
    const auth = `${sim.principal}:${sim.secret}`;
    const now = Date.now();
    const path = '/v2/siem/messages/blocked';
    expect((await get(sim.url, path, `interval=${iso(now - HOUR)}/${iso(now)}`, `${sim.principal}:wrong`)).status).toBe(401);
    expect((await get(sim.url, path, `interval=${iso(now - HOUR)}/${iso(now)}`, auth)).status).toBe(204);
    const tooLong = await get(sim.url, path, `interval=${iso(now - HOUR - 1000)}/${iso(now)}`, auth);
    expect(tooLong).toMatchObject({ status: 400 });
    expect(tooLong.text).toMatch(/interval is too long/);
    expect((await get(sim.url, path, `interval=${iso(now - 10_000)}/${iso(now)}`, auth)).text).toMatch(/too short/);
    expect((await get(sim.url, path, `interval=${iso(now - 7 * DAY - HOUR)}/${iso(now - 7 * DAY - 1800_000)}`, auth)).text).toMatch(/too far into the past/);
    expect((await get(sim.url, path, `interval=${iso(now)}/${iso(now - HOUR)}`, auth)).status).toBe(400);
    expect((await get(sim.url, path, `sinceSeconds=300&interval=${iso(now - HOUR)}/${iso(now)}`, auth)).status).toBe(400);
    expect((await get(sim.url, path, `interval=PT30M/${iso(now)}`, auth)).status).toBe(204);
    expect((await get(sim.url, path, 'sinceSeconds=3600', auth)).status).toBe(204);
    expect((await get(sim.url, path, 'sinceSeconds=3601', auth)).status).toBe(400);
  });

  it('answers queryEndTime and only the endpoint arrays, selects by creation time, fans out per recipient', async () => {
    const sim = await simulator({ emptyResponse: 'arrays' });
    const now = Date.now();
    const records = sim.generate({ service: 'messagesDelivered', count: 3, from: now - 50 * 60_000, to: now - 20 * 60_000, recipientsPerMessage: 2 });
    const end = iso(now - 60_000);
    const res = await get(sim.url, '/v2/siem/messages/delivered', `format=json&interval=${iso(now - HOUR)}/${end}`, `${sim.principal}:${sim.secret}`);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['messagesDelivered', 'queryEndTime']);
    expect(body['queryEndTime']).toBe(end);
    expect((body['messagesDelivered'] as unknown[]).length).toBe(6);
    expect(new Set(records.map((r) => r['GUID'])).size).toBe(3);
    const empty = JSON.parse((await get(sim.url, '/v2/siem/clicks/blocked', `interval=${iso(now - HOUR)}/${end}`, `${sim.principal}:${sim.secret}`)).text);
    expect(empty).toEqual({ queryEndTime: end, clicksBlocked: [] });
    // Late indexing: invisible until released, then in the window of its creation time.
    const late = generateProofpointEvents({ service: 'clicksBlocked', count: 1, from: now - 30 * 60_000, to: now - 29 * 60_000 });
    sim.addLateEvents('clicksBlocked', late);
    const q = `interval=${iso(now - HOUR)}/${end}`;
    expect(JSON.parse((await get(sim.url, '/v2/siem/clicks/blocked', q, `${sim.principal}:${sim.secret}`)).text).clicksBlocked).toEqual([]);
    sim.releaseLateEvents();
    expect(JSON.parse((await get(sim.url, '/v2/siem/clicks/blocked', q, `${sim.principal}:${sim.secret}`)).text).clicksBlocked).toEqual(late);
  });

  it('counts the quota per pool (clicks/permitted apart) and answers 429 without Retry-After', async () => {
    const sim = await simulator({ quota: 2, quotaWindowMs: DAY });
    const auth = `${sim.principal}:${sim.secret}`;
    const q = `interval=PT30M/${iso(Date.now())}`;
    expect((await get(sim.url, '/v2/siem/messages/blocked', q, auth)).status).toBe(204);
    expect((await get(sim.url, '/v2/siem/clicks/blocked', q, auth)).status).toBe(204);
    const throttled = await get(sim.url, '/v2/siem/all', q, auth);
    expect(throttled.status).toBe(429);
    expect(throttled.retryAfter).toBeNull();
    expect((await get(sim.url, '/v2/siem/clicks/permitted', q, auth)).status).toBe(204);
    expect(sim.quotaUsed('default')).toBe(2);
    expect(sim.quotaUsed('clicksPermitted')).toBe(1);
    expect(sim.throttled).toBe(1);
    // Unauthenticated requests are not counted.
    expect((await get(sim.url, '/v2/siem/clicks/permitted', q, 'x:y')).status).toBe(401);
    expect(sim.quotaUsed('clicksPermitted')).toBe(1);
  });
});
