import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import type { DarktraceSimulator } from '@collector/simulators';
import { closeSimulators, simulator } from './helpers.js';

afterEach(closeSimulators);

/** A raw request signed independently of the collector's client. */
async function get(sim: DarktraceSimulator, target: string, opts: { date?: string; signedTarget?: string; priv?: string; pub?: string; unsigned?: boolean } = {}) {
  const pub = opts.pub ?? sim.publicToken;
  const date = opts.date ?? new Date(Date.now()).toISOString().replace(/[-:]/g, '').slice(0, 15);
  const sig = createHmac('sha1', opts.priv ?? sim.privateToken).update(`${opts.signedTarget ?? target}\n${pub}\n${date}`).digest('hex');
  const headers = opts.unsigned ? {} : { 'DTAPI-Token': pub, 'DTAPI-Date': date, 'DTAPI-Signature': sig };
  // node:http sends the target byte for byte (no URL normalisation in between).
  return new Promise<{ status: number; location: string | undefined; text: string }>((resolve, reject) => {
    const req = request(`${sim.url}${target}`, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers['location'], text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Darktrace simulator contract', () => {
  it('enforces signatures over the raw target, the date window and the redirects', async () => {
    const sim = await simulator({ tokens: [{ publicToken: 'limited-pub', privateToken: 'limited-priv', allow: ['/status'] }] });
    expect((await get(sim, '/status')).status).toBe(200);
    // Same parameters, different order than signed: the signature no longer matches.
    const reordered = await get(sim, '/modelbreaches?endtime=2&starttime=1', { signedTarget: '/modelbreaches?starttime=1&endtime=2' });
    expect(reordered).toMatchObject({ status: 400, text: '{"error":"API SIGNATURE ERROR"}' });
    expect((await get(sim, '/status', { priv: 'nope' })).text).toContain('API SIGNATURE ERROR');
    const skewed = new Date(Date.now() - 31 * 60_000).toISOString().replace(/[-:]/g, '').slice(0, 15);
    expect((await get(sim, '/status', { date: skewed })).text).toContain('API DATE ERROR');
    // The other DTAPI-Date forms clients use are accepted.
    const now = new Date();
    expect((await get(sim, '/status', { date: now.toISOString().slice(0, 19).replace('T', ' ') })).status).toBe(200);
    expect((await get(sim, '/status', { date: now.toISOString() })).status).toBe(200);
    expect(await get(sim, '/status', { unsigned: true })).toMatchObject({ status: 302, location: '/login', text: 'Found. Redirecting to /login' });
    expect(await get(sim, '/nosuchendpoint')).toMatchObject({ status: 302, location: '/login' });
    expect(await get(sim, '/modelbreaches?starttime=1&endtime=2', { pub: 'limited-pub', priv: 'limited-priv' })).toMatchObject({ status: 302, location: '/403' });
  });

  it('filters on starttime/endtime (ms, inclusive; seconds accepted) and shows late breaches once created', async () => {
    const from = Date.UTC(2024, 0, 1);
    const sim = await simulator({ breaches: { from, to: from + 10 * 3_600_000, everyMs: 60_000 } });
    const hour = JSON.parse((await get(sim, `/modelbreaches?starttime=${from}&endtime=${from + 3_600_000 - 1}&includeacknowledged=true`)).text) as { pbid: number; time: number }[];
    expect(hour.map((b) => b.pbid)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const seconds = JSON.parse((await get(sim, `/modelbreaches?starttime=${from / 1000}&endtime=${Math.floor((from + 3_600_000 - 1) / 1000)}&includeacknowledged=true`)).text) as unknown[];
    expect(seconds.length).toBeGreaterThanOrEqual(59);
    const late = sim.addBreach(from + 30 * 60_000 + 1);
    const again = JSON.parse((await get(sim, `/modelbreaches?starttime=${from}&endtime=${from + 3_600_000 - 1}&includeacknowledged=true`)).text) as { pbid: number }[];
    expect(again.map((b) => b.pbid)).toContain(late.pbid);
    expect(again).toHaveLength(61);
    expect((await get(sim, `/modelbreaches?starttime=${from}`)).status).toBe(400);
  });

  it('selects breaches on creationTime with creationtime=true: a breach created 3 h after its time', async () => {
    const sim = await simulator();
    const now = Date.now();
    const late = sim.addBreach(now - 3 * 3_600_000);
    const byTime = (s: number, e: number, extra = '') => get(sim, `/modelbreaches?starttime=${s}&endtime=${e}&includeacknowledged=true${extra}`).then((r) => (JSON.parse(r.text) as { pbid: number }[]).map((b) => b.pbid));
    expect(await byTime(now - 60_000, now + 60_000)).toEqual([]);
    expect(await byTime(now - 60_000, now + 60_000, '&creationtime=true')).toEqual([late.pbid]);
    expect(await byTime(now - 3 * 3_600_000 - 1, now - 3 * 3_600_000 + 1)).toEqual([late.pbid]);
  });

  it('an updated incident event keeps its id and createdAt, and is served with the update', async () => {
    const sim = await simulator();
    const created = Date.now() - 5 * 3_600_000;
    const incident = sim.addIncident(created);
    sim.updateIncident(incident.id, { acknowledged: true, currentGroup: 'g-other', aiaScore: 99 });
    const served = JSON.parse((await get(sim, `/aianalyst/incidentevents?starttime=${created}&endtime=${created}&includeacknowledged=true`)).text) as Record<string, unknown>[];
    expect(served).toMatchObject([{ id: incident.id, createdAt: created, acknowledged: true, currentGroup: 'g-other', aiaScore: 99 }]);
    // Acknowledged events are left out unless asked for.
    expect(JSON.parse((await get(sim, `/aianalyst/incidentevents?starttime=${created}&endtime=${created}&includeacknowledged=false`)).text)).toEqual([]);
  });

  it('/antigena: current and 14 days of expired actions without a window, cleared ones on request, a window on start', async () => {
    const sim = await simulator();
    const now = Date.now();
    const day = 86_400_000;
    const active = sim.addAction();
    const pending = sim.addAction({ active: false });
    const recent = sim.addAction({ start: now - 3 * day, expires: now - 2 * day });
    sim.addAction({ start: now - 20 * day, expires: now - 19 * day });
    const cleared = sim.addAction({ cleared: true, active: false });
    const codes = async (target: string) => {
      const body = JSON.parse((await get(sim, target)).text) as { codeid: number }[] | { actions: { codeid: number }[] };
      return (Array.isArray(body) ? body : body.actions).map((a) => a.codeid);
    };
    expect(await codes('/antigena')).toEqual([active.codeid, pending.codeid, recent.codeid]);
    expect(await codes('/antigena?includecleared=true')).toEqual([active.codeid, pending.codeid, recent.codeid, cleared.codeid]);
    expect(await codes('/antigena?needconfirming=true')).toEqual([pending.codeid]);
    expect(await codes(`/antigena?starttime=${now - 21 * day}&endtime=${now - 18 * day}`)).toEqual([4]);
    expect(await codes('/antigena?fulldevicedetails=true')).toEqual([active.codeid, pending.codeid, recent.codeid]);
    sim.updateAction(pending.codeid, { active: true });
    const withHistory = JSON.parse((await get(sim, '/antigena?includehistory=true')).text) as Record<string, unknown>[];
    expect(withHistory.find((a) => a['codeid'] === pending.codeid)).toMatchObject({ active: true, history: [{ active: false }, { active: true }] });
    expect(JSON.parse((await get(sim, '/antigena')).text)[0]).not.toHaveProperty('history');
    expect((await get(sim, `/antigena?starttime=${now}`)).status).toBe(400);
  });

  it('serves 100k+ breaches quickly (generated by index, not stored)', async () => {
    const from = Date.UTC(2024, 0, 1);
    const sim = await simulator({ breaches: { from, to: from + 120_000 * 1000, everyMs: 1000 } });
    const started = performance.now();
    let total = 0;
    for (let h = 0; h < 34; h++) {
      const start = from + h * 3_600_000;
      const body = JSON.parse((await get(sim, `/modelbreaches?starttime=${start}&endtime=${start + 3_600_000 - 1}&includeacknowledged=true`)).text) as unknown[];
      total += body.length;
    }
    expect(total).toBe(120_000);
    // Generous bound for a loaded 2-core machine; typically ~2 s.
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});
