import { afterEach, describe, expect, it } from 'vitest';
import { APP_ID, APP_SECRET, closeAll, simulator } from './helpers.js';

// The simulator must hold collectors to Lark's contract (vendor-apis.md §1); these pin what it enforces.
afterEach(closeAll);

async function token(url: string, appSecret = APP_SECRET): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/open-apis/auth/v3/tenant_access_token/internal`, { method: 'POST', body: JSON.stringify({ app_id: APP_ID, app_secret: appSecret }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function audit(url: string, bearer: string, query: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${url}/open-apis/admin/v1/audit_infos?${qs}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { code: number; msg: string; data?: { has_more: boolean; page_token?: string; items: unknown[] } } };
}

describe('Lark simulator contract', () => {
  it('issues a token for the right credentials, reuses it, and refuses wrong ones', async () => {
    const sim = await simulator();
    const first = await token(sim.url);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ code: 0, expire: 7200 });
    expect((await token(sim.url)).body['tenant_access_token']).toBe(first.body['tenant_access_token']);
    expect(await token(sim.url, 'nope-nope')).toEqual({ status: 400, body: { code: 10014, msg: 'app secret invalid' } });
  });

  it('enforces the token, page_size, the time filter and page tokens', async () => {
    const sim = await simulator({ generate: { count: 5 } });
    const t = String((await token(sim.url)).body['tenant_access_token']);
    const now = Math.floor(Date.now() / 1000);
    expect((await audit(sim.url, 'wrong', {})).body.code).toBe(99991663);
    expect((await audit(sim.url, t, { page_size: 201 })).body).toEqual({ code: 1050005, msg: 'page_size is invalid' });
    expect((await audit(sim.url, t, { oldest: now - 31 * 86_400, latest: now })).body.code).toBe(1050001);
    expect((await audit(sim.url, t, { oldest: now, latest: now - 1 })).body.code).toBe(1050001);
    const page1 = await audit(sim.url, t, { oldest: now - 86_400 - 60, latest: now, page_size: 2 });
    expect(page1.body.data).toMatchObject({ has_more: true });
    expect(page1.body.data!.items).toHaveLength(2);
    expect((await audit(sim.url, t, { oldest: now - 10, latest: now, page_token: page1.body.data!.page_token! })).body.code).toBe(1050006);
    // The same query continues where page 1 ended; the last page has no token.
    const rest = await audit(sim.url, t, { oldest: now - 86_400 - 60, latest: now, page_size: 3, page_token: page1.body.data!.page_token! });
    expect(rest.body.data!.items).toHaveLength(3);
    expect(rest.body.data!.has_more).toBe(false);
    expect(rest.body.data!.page_token).toBeUndefined();
  });

  it('throttles past the per-minute limit with 429, x-ogw-ratelimit headers and code 99991400', async () => {
    const sim = await simulator({ rateLimitPerMinute: 2 });
    const t = String((await token(sim.url)).body['tenant_access_token']);
    expect((await audit(sim.url, t, {})).status).toBe(200);
    expect((await audit(sim.url, t, {})).status).toBe(200);
    const limited = await audit(sim.url, t, {});
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ code: 99991400, msg: 'request trigger frequency limit' });
    expect(limited.headers.get('x-ogw-ratelimit-limit')).toBe('2');
    expect(Number(limited.headers.get('x-ogw-ratelimit-reset'))).toBeGreaterThan(50);
  });

  it('revokes tokens on demand', async () => {
    const sim = await simulator();
    const t = String((await token(sim.url)).body['tenant_access_token']);
    sim.faults.inject({ kind: 'expire-tokens' });
    expect((await audit(sim.url, t, {})).body.code).toBe(99991663);
    expect((await token(sim.url)).body['tenant_access_token']).not.toBe(t);
  });
});
