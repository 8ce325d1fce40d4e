import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient, HttpError, RateLimiter, registerSecret, TokenCache } from '@collector/sdk';
import { clearSecrets, retryAfterHeaderMs } from '@collector/sdk/host';

const servers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!();
  clearSecrets();
});

/** A server answering with the scripted responses in order (the last one repeats). */
async function scripted(responses: ((req: IncomingMessage, res: ServerResponse) => void)[]) {
  const seen: { url: string; at: number; headers: IncomingMessage['headers'] }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', at: Date.now(), headers: req.headers });
    (responses[Math.min(seen.length - 1, responses.length - 1)] ?? ((_, r) => r.end()))(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(() => new Promise((r) => server.close(() => r())));
  servers.push(async () => void server.closeAllConnections());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const fast = { backoffBaseMs: 5, maxBackoffMs: 20 };

describe('HttpClient', () => {
  it('retries 5xx and network-level failures, then returns the good response', async () => {
    const api = await scripted([
      (_, res) => res.writeHead(503).end('busy'),
      (req) => req.socket.destroy(),
      (_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    ]);
    const http = new HttpClient(fast);
    const res = await http.request({ url: `${api.url}/x`, query: { a: 1, b: 'two words', skip: undefined } });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(api.seen).toHaveLength(3);
    expect(api.seen[0]!.url).toBe('/x?a=1&b=two+words');
  });

  it('gives the 5xx response back once retries are exhausted', async () => {
    const api = await scripted([(_, res) => res.writeHead(500).end('boom')]);
    const res = await new HttpClient(fast).request({ url: api.url, retries: 2 });
    expect(res.status).toBe(500);
    expect(api.seen).toHaveLength(3);
  });

  it('honours Retry-After on 429, and a vendor hint before it', async () => {
    const api = await scripted([
      (_, res) => res.writeHead(429, { 'retry-after': '1' }).end(),
      (_, res) => res.writeHead(200, { 'x-reset': '0' }).end('{"code":99991400}'),
      (_, res) => res.writeHead(200).end('{"code":0}'),
    ]);
    const http = new HttpClient(fast);
    const res = await http.request({
      url: api.url,
      isThrottled: (r) => r.status === 429 || r.text.includes('99991400'),
      retryAfterMs: (r) => (r.headers['x-reset'] ? Number(r.headers['x-reset']) * 1000 : undefined),
    });
    expect(res.json()).toEqual({ code: 0 });
    expect(api.seen).toHaveLength(3);
    expect(api.seen[1]!.at - api.seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('refuses plain HTTP to a non-loopback host unless allowed', async () => {
    const error = await new HttpClient().request({ url: 'http://example.com/x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).kind).toBe('insecure');
    expect((error as HttpError).message).toMatch(/use HTTPS, or set allow_insecure_http: true/);
  });

  it('calls a header function per attempt (fresh signatures) and redacts secrets in errors', async () => {
    const api = await scripted([(_, res) => res.writeHead(502).end(), (_, res) => res.writeHead(200).end('not json')]);
    registerSecret('s3cr3t-token-value');
    let calls = 0;
    const res = await new HttpClient(fast).request({ url: `${api.url}/p?token=s3cr3t-token-value`, headers: () => ({ 'x-attempt': String(++calls) }) });
    expect(api.seen.map((s) => s.headers['x-attempt'])).toEqual(['1', '2']);
    const error = (() => {
      try {
        res.json();
      } catch (e) {
        return e as HttpError;
      }
    })();
    expect(error?.kind).toBe('body');
    expect(error?.message).toContain('not json');
    const network = await new HttpClient({ ...fast }).request({ url: 'http://127.0.0.1:1/x?token=s3cr3t-token-value', retries: 0 }).catch((e: Error) => e);
    expect(network).toBeInstanceOf(HttpError);
    expect((network as Error).message).not.toContain('s3cr3t-token-value');
  });

  it('refuses a response body above the configured size instead of exhausting memory', async () => {
    const api = await scripted([(_, res) => res.writeHead(200).end('x'.repeat(10_000))]);
    const error = await new HttpClient({ maxResponseBytes: 1000 }).request({ url: api.url }).catch((e: unknown) => e);
    expect((error as HttpError).kind).toBe('too-large');
  });

  it('keeps a connection to a server announcing Keep-Alive: timeout=1 for the next request', async () => {
    const api = await scripted([(_, res) => res.writeHead(200).end('{}')]);
    const server = api.server;
    server.keepAliveTimeout = 1000; // Node answers `Keep-Alive: timeout=1`
    let connections = 0;
    server.on('connection', () => connections++);
    const http = new HttpClient(fast);
    for (let page = 0; page < 4; page++) {
      const res = await http.request({ url: `${api.url}/page/${page}` });
      expect(res.headers['keep-alive']).toBe('timeout=1');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(api.seen).toHaveLength(4);
    expect(connections).toBe(1);
  });

  it('sends a request again on a new connection when the server closed the pooled one', async () => {
    const requestsOnSocket = new WeakMap<object, number>();
    const api = await scripted([
      (req, res) => {
        const count = (requestsOnSocket.get(req.socket) ?? 0) + 1;
        requestsOnSocket.set(req.socket, count);
        // A server that drops an idle keep-alive connection as the next request arrives on it.
        if (count > 1) req.socket.destroy();
        else res.writeHead(200).end('{}');
      },
    ]);
    const http = new HttpClient(fast);
    expect((await http.request({ url: `${api.url}/1`, retries: 0 })).status).toBe(200);
    expect((await http.request({ url: `${api.url}/2`, retries: 0 })).status).toBe(200);
    expect(api.seen.map((s) => s.url)).toEqual(['/1', '/2', '/2']);
  });

  it('a server that reads a request on a pooled connection, hangs and drops it has failed: no silent resend', async () => {
    const requestsOnSocket = new WeakMap<object, number>();
    const api = await scripted([
      (req, res) => {
        const count = (requestsOnSocket.get(req.socket) ?? 0) + 1;
        requestsOnSocket.set(req.socket, count);
        if (count > 1) setTimeout(() => req.socket.destroy(), 1_200);
        else res.writeHead(200).end('{}');
      },
    ]);
    const http = new HttpClient(fast);
    expect((await http.request({ url: `${api.url}/1`, retries: 0 })).status).toBe(200);
    await expect(http.request({ url: `${api.url}/2`, retries: 0 })).rejects.toThrow(/ECONNRESET|socket hang up/);
    expect(api.seen.map((s) => s.url)).toEqual(['/1', '/2']);
  });

  it('times out a server that does not answer, or stops sending its body, and follows no redirect', async () => {
    const api = await scripted([
      () => undefined, // never answers
      (_, res) => res.writeHead(200).write('{"partial":'), // then silence
      (_, res) => res.writeHead(302, { location: '/elsewhere' }).end(),
    ]);
    const http = new HttpClient({ ...fast, timeoutMs: 200 });
    const silent = await http.request({ url: `${api.url}/a`, retries: 0 }).catch((e: unknown) => e);
    expect((silent as HttpError).kind).toBe('timeout');
    const cut = await http.request({ url: `${api.url}/b`, retries: 0 }).catch((e: unknown) => e);
    expect((cut as HttpError).kind).toBe('timeout');
    expect((cut as HttpError).status).toBe(200);
    const moved = await http.request({ url: `${api.url}/c` });
    expect(moved.status).toBe(302);
    expect(api.seen.map((s) => s.url)).toEqual(['/a', '/b', '/c']);
  });

  it('a stopping collector aborts the request in flight', async () => {
    const api = await scripted([() => undefined]);
    const stop = new AbortController();
    const pending = new HttpClient({ ...fast, signal: stop.signal }).request({ url: api.url }).catch((e: unknown) => e);
    while (api.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    expect(((await pending) as HttpError).kind).toBe('aborted');
  });

  it('decodes UTF-8 characters split between two chunks of the body', async () => {
    const payload = Buffer.from(JSON.stringify({ name: 'Zoë 🦊 Ünïcødé' }));
    const cut = payload.indexOf(Buffer.from('🦊')) + 2; // inside the four bytes of the fox
    const api = await scripted([
      (_, res) => {
        res.writeHead(200);
        res.write(payload.subarray(0, cut));
        setTimeout(() => res.end(payload.subarray(cut)), 20);
      },
    ]);
    const res = await new HttpClient(fast).request({ url: api.url });
    expect(res.json()).toEqual({ name: 'Zoë 🦊 Ünïcødé' });
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterHeaderMs('3')).toBe(3000);
    expect(retryAfterHeaderMs(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(retryAfterHeaderMs('soon')).toBeUndefined();
  });
});

describe('RateLimiter', () => {
  it('enforces every window and restores long-window budgets from its log after a restart', async () => {
    let now = 1_000_000;
    let persisted: number[] = [];
    const log = { load: () => persisted, save: async (t: number[]) => void (persisted = [...t]) };
    const limits = [
      { period: '1d', number_of_requests: 3 },
      { period: '1s', number_of_requests: 2 },
    ];
    const limiter = new RateLimiter(limits, log, 1, () => now);
    await limiter.schedule(async () => 1);
    await limiter.schedule(async () => 2);
    expect(limiter.waitFor(1)).toBe(1000); // the 1 s window is full
    now += 1000;
    await limiter.schedule(async () => 3);
    expect(persisted).toHaveLength(3);
    // A new process with the same log: the daily budget is spent until the first request is a day old.
    const restarted = new RateLimiter(limits, log, 1, () => now);
    expect(restarted.remaining()).toBe(0);
    expect(restarted.waitFor(1)).toBe(86_400_000 - 1000);
    // A 429 without a hint waits until the oldest request leaves the day window.
    expect(restarted.blockAfterThrottle(5000)).toBe(86_400_000 - 1000);
  });

  it('treats -1 as unlimited', () => {
    const limiter = new RateLimiter([{ period: '1m', number_of_requests: -1 }]);
    expect(limiter.waitFor(1000)).toBe(0);
  });
});

describe('TokenCache', () => {
  it('reuses a token until max age minus the early refresh, shares one fetch, and refetches after invalidate', async () => {
    let now = 0;
    let fetches = 0;
    const cache = new TokenCache(async () => ({ value: `t${++fetches}`, expiresInSeconds: 7200 }), { maxAgeMs: 40 * 60_000, refreshEarlyMs: 60_000, clock: () => now });
    expect(await Promise.all([cache.get(), cache.get()])).toEqual(['t1', 't1']);
    now = 38 * 60_000;
    expect(await cache.get()).toBe('t1');
    now = 39 * 60_000 + 1;
    expect(await cache.get()).toBe('t2');
    cache.invalidate();
    expect(await cache.get()).toBe('t3');
  });
});
