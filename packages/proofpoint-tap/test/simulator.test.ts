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

  it('serves the Threat API (no throttle) and the Forensics API (exactly one ID, 50 per window by threat ID), with status changes', async () => {
    const sim = await simulator({ forensicsQuota: 2, quotaWindowMs: DAY });
    const auth = `${sim.principal}:${sim.secret}`;
    const now = Date.now();
    sim.generate({ service: 'clicksPermitted', count: 2, from: now - HOUR, to: now - 60_000 });
    sim.generate({ service: 'messagesDelivered', count: 1, from: now - HOUR, to: now - 60_000, recipientsPerMessage: 3 });
    const threats = sim.threats();
    // A message's recipients share its threat: 2 clicks + 1 message = 3 threats.
    expect(threats).toHaveLength(3);
    const [click] = threats;
    expect((await get(sim.url, `/v2/threat/summary/${click!.id}`, '', `${sim.principal}:wrong`)).status).toBe(401);
    const summary = await get(sim.url, `/v2/threat/summary/${click!.id}`, '', auth);
    expect(summary.status).toBe(200);
    expect(Object.keys(JSON.parse(summary.text)).sort()).toEqual(
      ['actors', 'attackSpread', 'brands', 'category', 'detectionType', 'families', 'geographies', 'id', 'identifiedAt', 'malware', 'name', 'notable', 'severity', 'status', 'techniques', 'type', 'verticals'].sort(),
    );
    expect((await get(sim.url, '/v2/threat/summary/nope', '', auth)).status).toBe(404);
    // Status changes show in the summary and in the SIEM records that carry the threat.
    sim.setThreatStatus(click!.id, 'cleared');
    expect(JSON.parse((await get(sim.url, `/v2/threat/summary/${click!.id}`, '', auth)).text).status).toBe('cleared');
    const siem = JSON.parse((await get(sim.url, '/v2/siem/clicks/permitted', `interval=${iso(now - HOUR)}/${iso(now)}`, auth)).text);
    expect(siem.clicksPermitted.find((c: Record<string, unknown>) => c['threatID'] === click!.id).threatStatus).toBe('cleared');
    // Forensics: exactly one of threatId/campaignId, includecampaignforensics only with a threat, true|false.
    expect((await get(sim.url, '/v2/forensics', '', auth)).status).toBe(400);
    expect((await get(sim.url, '/v2/forensics', `threatId=${click!.id}&campaignId=${click!.campaignId}`, auth)).status).toBe(400);
    expect((await get(sim.url, '/v2/forensics', `campaignId=${click!.campaignId}&includecampaignforensics=true`, auth)).status).toBe(400);
    expect((await get(sim.url, '/v2/forensics', `threatId=${click!.id}&includecampaignforensics=yes`, auth)).status).toBe(400);
    const withCampaign = JSON.parse((await get(sim.url, '/v2/forensics', `threatId=${click!.id}&includecampaignforensics=true`, auth)).text);
    expect(withCampaign.reports.map((r: Record<string, unknown>) => r['scope'])).toEqual(['THREAT', 'CAMPAIGN']);
    expect(withCampaign.reports[0].threatStatus).toBe('cleared');
    expect(Object.keys(withCampaign.reports[0].forensics[0]).sort()).toEqual(['display', 'engine', 'malicious', 'platforms', 'time', 'type', 'what']);
    expect((await get(sim.url, '/v2/forensics', 'threatId=nope', auth)).status).toBe(404);
    // The third threat request in the window is refused (quota 2 here, 50 by default); campaigns have their own pool.
    const throttled = await get(sim.url, '/v2/forensics', `threatId=${click!.id}`, auth);
    expect(throttled.status).toBe(429);
    expect(throttled.retryAfter).toBeNull();
    expect((await get(sim.url, '/v2/forensics', `campaignId=${click!.campaignId}`, auth)).status).toBe(200);
    expect(sim.quotaUsed('forensics')).toBe(2);
    expect(sim.quotaUsed('forensicsCampaign')).toBe(1);
    // Neither counts in the SIEM pools (the one SIEM request above went to clicks/permitted's own).
    expect(sim.quotaUsed('default')).toBe(0);
    expect(sim.quotaUsed('clicksPermitted')).toBe(1);
  });
});
