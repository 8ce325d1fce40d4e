import { afterEach, describe, expect, it } from 'vitest';
import { generateO365Traces, type O365Simulator } from '@collector/simulators';
import { CLIENT_ID, CLIENT_SECRET, closeAll, DAY, HOUR, TENANT, startSim } from './helpers.js';

// The simulator is the contract the collector is tested against: these pin what it enforces.
afterEach(closeAll);

async function token(s: O365Simulator, version: 'v1' | 'v2', resourceOrScope: string, secret = CLIENT_SECRET) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: secret, [version === 'v1' ? 'resource' : 'scope']: resourceOrScope });
  const res = await fetch(`${s.url}/${TENANT}/oauth2/${version === 'v1' ? '' : 'v2.0/'}token`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('o365 simulator contract', () => {
  it('issues v1 tokens for a resource and v2 tokens for <resource>/.default, each valid for its own API', async () => {
    const s = await startSim();
    const v1 = await token(s, 'v1', 'https://outlook.office365.com');
    expect(v1.status).toBe(200);
    expect(v1.body).toEqual(expect.objectContaining({ token_type: 'Bearer', expires_in: '3599', resource: 'https://outlook.office365.com' }));
    expect((await token(s, 'v2', 'https://graph.microsoft.com')).body['error']).toBe('invalid_scope');
    const v2 = await token(s, 'v2', 'https://graph.microsoft.com/.default');
    expect(v2.body['expires_in']).toBe(3599);
    expect((await token(s, 'v1', 'https://outlook.office365.com', 'nope')).status).toBe(401);
    const now = Date.now();
    const graph = (t: string) => fetch(`${s.url}/v1.0/admin/exchange/tracing/messageTraces?$filter=${encodeURIComponent(`receivedDateTime ge ${iso(now - HOUR)} and receivedDateTime le ${iso(now - 60_000)}`)}`, { headers: { authorization: `Bearer ${t}` } });
    expect((await graph(v2.body['access_token'])).status).toBe(200);
    const wrong = await graph(v1.body['access_token']);
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error.code).toBe('InvalidAuthenticationToken');
    const rws = await fetch(`${s.url}/ecp/reportingwebservice/reporting.svc/MessageTrace?$format=json`, { headers: { authorization: `Bearer ${v2.body['access_token']}` } });
    expect(rws.status).toBe(401);
    expect(await rws.text()).toContain('<title>401 - Unauthorized: Access is denied due to invalid credentials.</title>');
  });

  it('serves getDetailsByRecipient per (message, recipient) with the documented shape, sharing the tenant throttle', async () => {
    const now = Date.now();
    const rows = generateO365Traces({ messages: 3, from: new Date(now - 3 * HOUR), to: new Date(now - HOUR), lateFraction: 0, seed: 12, maxRecipients: 1 });
    rows[0]!.recipient = "o'brien@contoso.com";
    rows[0]!.status = 'Failed';
    const s = await startSim({ rows, graphThrottle: { limit: 4, windowMs: 60_000 } });
    const { body } = await token(s, 'v2', 'https://graph.microsoft.com/.default');
    const get = (id: string, call: string) => fetch(`${s.url}/v1.0/admin/exchange/tracing/messageTraces/${encodeURIComponent(id)}/${call}`, { headers: { authorization: `Bearer ${body['access_token']}` } });
    const ok = await get(rows[0]!.messageTraceId, `getDetailsByRecipient(recipientAddress='${encodeURIComponent("o''brien@contoso.com")}')`);
    expect(ok.status).toBe(200);
    const details = ((await ok.json()) as { value: Record<string, unknown>[] }).value;
    expect(details.map((d) => d['event'])).toEqual(['Receive', 'Fail']);
    expect(details[0]).toEqual(expect.objectContaining({ '@odata.type': '#microsoft.graph.exchangeMessageTraceDetail', id: rows[0]!.messageTraceId, messageId: rows[0]!.messageId, dateTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/), action: '', description: expect.any(String), data: expect.stringMatching(/^<root>/) }));
    expect((await get(rows[1]!.messageTraceId, `getDetailsByRecipient(recipientAddress='nobody@contoso.com')`)).status).toBe(404);
    expect((await get(rows[1]!.messageTraceId, 'getDetailsByRecipient()')).status).toBe(400);
    // The fourth Graph request of the minute was the last the throttle allows: details and listing share it.
    expect((await fetch(`${s.url}/v1.0/admin/exchange/tracing/messageTraces`, { headers: { authorization: `Bearer ${body['access_token']}` } })).status).toBe(200);
    const throttled = await get(rows[1]!.messageTraceId, `getDetailsByRecipient(recipientAddress='${rows[1]!.recipient}')`);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(s.requests.filter((r) => r.api === 'graph-detail').map((r) => r.status)).toEqual([200, 404, 400, 429]);
  });

  it('rejects Graph filters beyond its limits with a Graph error body', async () => {
    const s = await startSim();
    const { body } = await token(s, 'v2', 'https://graph.microsoft.com/.default');
    const now = Date.now();
    const ask = async (filter: string, top?: number) => {
      const res = await fetch(`${s.url}/v1.0/admin/exchange/tracing/messageTraces?$filter=${encodeURIComponent(filter)}${top ? `&$top=${top}` : ''}`, { headers: { authorization: `Bearer ${body['access_token']}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const span = (a: number, b: number) => `receivedDateTime ge ${iso(a)} and receivedDateTime le ${iso(b)}`;
    expect((await ask(span(now - 11 * DAY, now - DAY + 1000))).body.error.message).toMatch(/cannot exceed 10 days/);
    expect((await ask(span(now - 91 * DAY, now - 85 * DAY))).body.error.message).toMatch(/90 days/);
    expect((await ask(span(now - HOUR, now + 60_000))).body.error.message).toMatch(/future/);
    expect((await ask(`receivedDateTime ge ${new Date(now - HOUR).toISOString()} and receivedDateTime le ${iso(now - 60_000)}`)).status).toBe(400);
    expect((await ask(span(now - HOUR, now - 60_000), 5001)).body.error.code).toBe('BadRequest');
    expect((await ask(span(now - HOUR, now - 60_000), 5000)).status).toBe(200);
  });

  it('pages Graph newest first through nextLinks, throttles with Retry-After, and hides recalled without the Prefer header', async () => {
    const now = Date.now();
    const rows = generateO365Traces({ messages: 30, from: new Date(now - 5 * HOUR), to: new Date(now - 2 * HOUR), lateFraction: 0 });
    rows.at(-1)!.status = 'Recalled';
    const s = await startSim({ rows, graphThrottle: { limit: 2, windowMs: 60_000 } });
    const { body } = await token(s, 'v2', 'https://graph.microsoft.com/.default');
    const headers = { authorization: `Bearer ${body['access_token']}` };
    let url: string | undefined = `${s.url}/v1.0/admin/exchange/tracing/messageTraces?$filter=${encodeURIComponent(`receivedDateTime ge ${iso(now - 6 * HOUR)} and receivedDateTime le ${iso(now - HOUR)}`)}&$top=20`;
    const seen: Record<string, any>[] = [];
    let status = 200;
    let retryAfter: string | null = null;
    while (url) {
      const res: Response = await fetch(url, { headers });
      status = res.status;
      if (status !== 200) {
        retryAfter = res.headers.get('retry-after');
        break;
      }
      const page = (await res.json()) as any;
      seen.push(...page.value);
      url = page['@odata.nextLink'];
    }
    expect(status).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(seen.length).toBe(40);
    const times = seen.map((r) => Date.parse(r.receivedDateTime));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(seen.some((r) => r.status === 'unknownFutureValue')).toBe(true);
    expect(seen.some((r) => r.status === 'recalled')).toBe(false);
  });

  it('pages RWS with $skiptoken offsets in both JSON shapes and answers 403 with the manual\'s message', async () => {
    const now = Date.now();
    const s = await startSim({ generate: { messages: 20, from: new Date(now - 3 * HOUR), to: new Date(now - 2 * HOUR), lateFraction: 0 } });
    const { body } = await token(s, 'v1', 'https://outlook.office365.com');
    const headers = { authorization: `Bearer ${body['access_token']}` };
    const filter = encodeURIComponent(`StartDate eq datetime'${iso(now - 4 * HOUR)}' and EndDate eq datetime'${iso(now - HOUR)}'`);
    const page = async (skip: number) => (await (await fetch(`${s.url}/ecp/reportingwebservice/reporting.svc/MessageTrace?$filter=${filter}&$format=json&$top=5&$skiptoken=${skip}`, { headers })).json()) as any;
    const first = await page(0);
    expect(first.value).toHaveLength(5);
    expect(first.value[0].Index).toBe(0);
    expect((await page(5)).value[0].Index).toBe(5);
    s.settings.rwsShape = 'verbose';
    const verbose = await page(0);
    expect(verbose.d.results[0].Received).toMatch(/^\/Date\(\d+\)\/$/);
    s.settings.rwsForbidden = true;
    const forbidden = await fetch(`${s.url}/ecp/reportingwebservice/reporting.svc/MessageTrace?$filter=${filter}&$format=json`, { headers });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({ ErrorCode: '', Message: 'No permission to access the report for the organization .' });
  });

  it('generates 100k messages (benchmark scale) deterministically, in time order', () => {
    const a = generateO365Traces({ messages: 100_000, from: new Date(Date.UTC(2026, 0, 1)), to: new Date(Date.UTC(2026, 0, 11)), seed: 5 });
    expect(a.length).toBeGreaterThan(150_000);
    expect(a.every((r, i) => i === 0 || a[i - 1]!.received <= r.received)).toBe(true);
    const b = generateO365Traces({ messages: 10, from: new Date(Date.UTC(2026, 0, 1)), to: new Date(Date.UTC(2026, 0, 11)), seed: 5 });
    const c = generateO365Traces({ messages: 10, from: new Date(Date.UTC(2026, 0, 1)), to: new Date(Date.UTC(2026, 0, 11)), seed: 5 });
    expect(b).toEqual(c);
  });
});
