import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { authorizedRequest, HttpClient, HttpError, requestOrFail, TokenCache } from '@collector/sdk';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** A server answering with the scripted handlers in order (the last one repeats), recording the Authorization header. */
async function scripted(handlers: ((req: IncomingMessage, res: ServerResponse) => void)[]) {
  const auth: string[] = [];
  const server = createServer((req, res) => {
    auth.push(String(req.headers.authorization));
    handlers[Math.min(auth.length - 1, handlers.length - 1)]!(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/data`, auth };
}

function tokens() {
  let issued = 0;
  return new TokenCache(async () => ({ value: `t${++issued}` }), { maxAgeMs: 3_600_000 });
}

const fast = { backoffBaseMs: 5, maxBackoffMs: 20 };
const fail = (detail: string) => new Error(`failed: ${detail}`);

describe('authorizedRequest', () => {
  it('on 401 drops the token, tells the vendor, and retries once with a new one', async () => {
    const api = await scripted([(_, res) => res.writeHead(401).end('expired'), (_, res) => res.writeHead(200).end('{}')]);
    const rejected: number[] = [];
    const res = await authorizedRequest(new HttpClient(fast), {
      tokens: tokens(),
      request: (token) => ({ url: api.url, headers: { authorization: `Bearer ${token}` } }),
      onTokenRejected: (r) => rejected.push(r.status),
      fail,
    });
    expect(res.status).toBe(200);
    expect(api.auth).toEqual(['Bearer t1', 'Bearer t2']);
    expect(rejected).toEqual([401]);
  });

  it('retries once only: a second rejection is the caller’s answer', async () => {
    const api = await scripted([(_, res) => res.writeHead(401).end('no')]);
    const res = await authorizedRequest(new HttpClient(fast), { tokens: tokens(), request: (token) => ({ url: api.url, headers: { authorization: token } }), fail });
    expect(res.status).toBe(401);
    expect(api.auth).toEqual(['t1', 't2']);
  });

  it('treats the vendor predicate like a 401 (a body code on HTTP 200)', async () => {
    const api = await scripted([(_, res) => res.writeHead(200).end('{"code":99}'), (_, res) => res.writeHead(200).end('{"code":0}')]);
    const res = await authorizedRequest(new HttpClient(fast), {
      tokens: tokens(),
      request: (token) => ({ url: api.url, headers: { authorization: token } }),
      tokenRejected: (r) => r.json<{ code: number }>().code === 99,
      fail,
    });
    expect(res.json()).toEqual({ code: 0 });
    expect(api.auth).toEqual(['t1', 't2']);
  });
});

describe('requestOrFail', () => {
  it('turns a request without an answer into the vendor error, with the cause', async () => {
    const api = await scripted([(req) => req.socket.destroy()]);
    const causes: unknown[] = [];
    const error = await requestOrFail(new HttpClient(fast), { url: api.url, retries: 0 }, (detail, cause) => {
      causes.push(cause);
      return fail(detail);
    }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/^Error: failed: /);
    expect(causes[0]).toBeInstanceOf(HttpError);
  });

  it('re-throws a stop as it is', async () => {
    const api = await scripted([(_, res) => setTimeout(() => res.writeHead(200).end('{}'), 2000)]);
    const stop = new AbortController();
    const pending = requestOrFail(new HttpClient({ ...fast, signal: stop.signal }), { url: api.url }, fail).catch((e: unknown) => e);
    setTimeout(() => stop.abort(), 50);
    const error = await pending;
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).kind).toBe('aborted');
  });
});
