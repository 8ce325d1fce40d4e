import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { getCACertificates, setDefaultCACertificates, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, HttpError } from '@collector/sdk';
import { freePort, generatePki, type Pki } from '@collector/testkit';
import { ResponseParser } from '../src/http/response-parser.js';

// The SDK's own HTTP/1.1 exchange (http-client.ts, connection-pool.ts, response-parser.ts) against servers that
// answer byte for byte what a test scripts, and against a real TLS server.

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

interface RawServer {
  url: string;
  /** Every request head received, in order. */
  heads: string[];
  /** Connections accepted so far. */
  connections: number;
  /** Connections the client closed (FIN or reset seen by the server). */
  closedByClient: number;
}

/** A TCP server that answers each request head with `answer(index)` written as raw bytes. */
async function rawServer(answer: (index: number, socket: Socket) => string | Buffer | undefined): Promise<RawServer> {
  const state: RawServer = { url: '', heads: [], connections: 0, closedByClient: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createNetServer((socket) => {
    state.connections++;
    sockets.add(socket);
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        state.heads.push(head);
        const reply = answer(state.heads.length - 1, socket);
        if (reply !== undefined && !socket.destroyed) socket.write(reply);
      }
    });
    socket.on('end', () => state.closedByClient++);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

const fast = { backoffBaseMs: 5, maxBackoffMs: 20 };
const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

/** Feeds `bytes` to a parser in pieces of `step` bytes; the body and whether it completed. */
function parse(bytes: Buffer, step: number): { parser: ResponseParser; body: string; complete: boolean } {
  const pieces: Buffer[] = [];
  const parser = new ResponseParser((b) => pieces.push(Buffer.from(b)));
  let complete = false;
  for (let at = 0; at < bytes.length && !complete; at += step) complete = parser.push(bytes.subarray(at, at + step));
  return { parser, body: Buffer.concat(pieces).toString('utf8'), complete };
}

describe('ResponseParser', () => {
  const responses: { name: string; bytes: string; body: string; status: number; keepAlive: boolean }[] = [
    { name: 'Content-Length', bytes: ok('{"a":"Zoë 🦊"}', 'Content-Type: application/json\r\n'), body: '{"a":"Zoë 🦊"}', status: 200, keepAlive: true },
    {
      name: 'chunked, with extensions and trailers',
      bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, 01234567\r\n0\r\nX-Trailer: t\r\n\r\n',
      body: 'hello, 01234567',
      status: 200,
      keepAlive: true,
    },
    { name: '100 Continue, then the answer', bytes: `HTTP/1.1 100 Continue\r\n\r\n${ok('{}')}`, body: '{}', status: 200, keepAlive: true },
    { name: '204 without a body', bytes: 'HTTP/1.1 204 No Content\r\n\r\n', body: '', status: 204, keepAlive: true },
    { name: 'Connection: close', bytes: ok('x', 'Connection: close\r\n'), body: 'x', status: 200, keepAlive: false },
    { name: 'HTTP/1.0 without keep-alive', bytes: 'HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\nno', body: 'no', status: 404, keepAlive: false },
  ];

  it('reads every framing the same whether the bytes come whole or one at a time', () => {
    for (const response of responses) {
      const bytes = Buffer.from(response.bytes);
      for (const step of [bytes.length, 7, 1]) {
        const { parser, body, complete } = parse(bytes, step);
        expect({ name: response.name, step, complete, body, status: parser.status, keepAlive: parser.keepAlive }).toEqual({
          name: response.name,
          step,
          complete: true,
          body: response.body,
          status: response.status,
          keepAlive: response.keepAlive,
        });
      }
    }
  });

  it('the answer to a HEAD request ends with its head, whatever its Content-Length or Transfer-Encoding announce', () => {
    for (const head of ['HTTP/1.1 200 OK\r\nContent-Length: 5120\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n']) {
      const parser = new ResponseParser(() => expect.unreachable('a HEAD answer has no body'), true);
      expect(parser.push(Buffer.from(head))).toBe(true);
      expect({ status: parser.status, keepAlive: parser.keepAlive }).toEqual({ status: 200, keepAlive: true });
    }
  });

  it('joins repeated header fields (keeps the first of those node:http keeps one of) and lower-cases their names', () => {
    const { parser } = parse(Buffer.from(ok('', 'Set-Cookie: a=1\r\nSET-COOKIE: b=2\r\nRetry-After: 5\r\nretry-after: 7\r\nX-Ogw-Ratelimit-Reset: 3\r\n')), 5);
    expect(parser.headers['set-cookie']).toBe('a=1, b=2');
    expect(parser.headers['retry-after']).toBe('5');
    expect(parser.headers['x-ogw-ratelimit-reset']).toBe('3');
  });

  it('a body without length ends with the connection, which then is not reused', () => {
    const { parser, body, complete } = parse(Buffer.from('HTTP/1.1 200 OK\r\n\r\npartial '), 4);
    expect(complete).toBe(false);
    expect(parser.keepAlive).toBe(false);
    expect(parser.end()).toBe(true);
    expect(body).toBe('partial ');
  });

  it('refuses malformed answers instead of guessing', () => {
    const bad = [
      'HTTP/2 200\r\n\r\n',
      'HTTP/1.1 200 OK\r\nbroken header\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabc',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    ];
    for (const text of bad) expect(() => parse(Buffer.from(text), 3), text).toThrow(/^Invalid HTTP response/);
  });
});

describe('HttpClient connections', () => {
  it('reuses one connection for keep-alive answers and opens a new one after Connection: close or a body read to the end', async () => {
    const server = await rawServer((i, socket) => {
      if (i === 1) return ok('{"n":1}', 'Connection: close\r\n');
      if (i === 2) return 'HTTP/1.1 204 No Content\r\n\r\n';
      if (i === 3) {
        // No length: the body is what comes until the server closes.
        socket.end('HTTP/1.0 200 OK\r\n\r\n{"n":3}');
        return undefined;
      }
      return ok(`{"n":${i}}`);
    });
    const http = new HttpClient(fast);
    const bodies: string[] = [];
    for (let i = 0; i < 5; i++) bodies.push((await http.request({ url: `${server.url}/${i}`, retries: 0 })).text);
    expect(bodies).toEqual(['{"n":0}', '{"n":1}', '', '{"n":3}', '{"n":4}']);
    expect(server.heads.map((h) => h.split('\r\n', 1)[0])).toEqual(['GET /0 HTTP/1.1', 'GET /1 HTTP/1.1', 'GET /2 HTTP/1.1', 'GET /3 HTTP/1.1', 'GET /4 HTTP/1.1']);
    // 0 and 1 on the first connection, 2 and 3 on the second, 4 on a third.
    expect(server.connections).toBe(3);
  });

  it('sends the host, the body length and the caller\'s headers, and refuses a header value that would split the head', async () => {
    const server = await rawServer(() => ok('{}'));
    const http = new HttpClient(fast);
    await http.request({ url: `${server.url}/token?x=1`, json: { app_id: 'é' }, headers: { authorization: 'Bearer abc' } });
    const head = server.heads[0]!;
    expect(head.split('\r\n')[0]).toBe('POST /token?x=1 HTTP/1.1');
    expect(head).toContain(`\r\nhost: ${new URL(server.url).host}\r\n`);
    expect(head).toContain('\r\nauthorization: Bearer abc\r\n');
    expect(head).toContain('\r\ncontent-type: application/json; charset=utf-8\r\n');
    expect(head).toContain(`\r\ncontent-length: ${Buffer.byteLength('{"app_id":"é"}')}\r\n`);
    const withCredentials = new URL(server.url);
    withCredentials.username = 'user';
    withCredentials.password = 'p@ss';
    await http.request({ url: withCredentials });
    expect(server.heads[1]).toContain(`\r\nauthorization: Basic ${Buffer.from('user:p@ss').toString('base64')}\r\n`);
    const injected = await http.request({ url: `${server.url}/x`, headers: { 'x-a': 'v\r\nx-evil: 1' }, retries: 0 }).catch((e: unknown) => e);
    expect(injected).toBeInstanceOf(HttpError);
    expect(server.heads).toHaveLength(2);
  });

  it("takes the caller's header names in any case: each field goes out once, the framing fields are the exchange's own", async () => {
    const server = await rawServer(() => ok('{}'));
    const http = new HttpClient(fast);
    await http.request({ url: `${server.url}/x`, body: 'abc', headers: { 'User-Agent': 'mine/1', HOST: 'vendor.example', 'Content-Type': 'text/plain', 'Content-Length': '99', Connection: 'close' } });
    const fields = server.heads[0]!.split('\r\n').slice(1).map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
    for (const name of ['user-agent', 'host', 'content-type', 'content-length', 'connection']) expect(fields.filter((f) => f === name)).toHaveLength(1);
    expect(server.heads[0]).toContain('\r\nuser-agent: mine/1\r\n');
    expect(server.heads[0]).toContain('\r\nhost: vendor.example\r\n');
    expect(server.heads[0]).toContain('\r\ncontent-length: 3\r\n');
  });

  it('a request waiting for a place among 16 gets its own connection attempt when an opening one fails', async () => {
    // Nothing listens: every connection attempt is refused at once.
    const url = `http://127.0.0.1:${await freePort()}/x`;
    const http = new HttpClient({ ...fast, timeoutMs: 30_000 });
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => http.request({ url, retries: 0 }).then(() => 'answered', (e: unknown) => (e as HttpError).kind)));
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => 'network'));
    // Before: the four past the 16 waited out their 30 s timeout for a release no open connection would make.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('at most 16 connections to one origin: further requests wait for a free one', async () => {
    const server = await rawServer((i, socket) => {
      setTimeout(() => socket.write(ok(`{"n":${i}}`)), 30);
      return undefined;
    });
    const http = new HttpClient(fast);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => http.request({ url: `${server.url}/${i}` })));
    // Every request got the answer to its own head, over 16 connections that were never closed meanwhile.
    const asked = server.heads.map((h) => Number(/^GET \/(\d+) /.exec(h)![1]));
    expect(answers.map((a, i) => [i, a.json<{ n: number }>().n].join())).toEqual(answers.map((_, i) => [i, asked.indexOf(i)].join()));
    expect(server.connections).toBe(16);
    expect(server.closedByClient).toBe(0);
  });

  it('closes an idle connection before the server\'s announced Keep-Alive timeout, not after', async () => {
    const server = await rawServer(() => ok('{}', 'Keep-Alive: timeout=1\r\n'));
    const http = new HttpClient(fast);
    await http.request({ url: server.url });
    expect(server.closedByClient).toBe(0);
    // This server never closes it; the client lets it go 0.5 s before the 1 s it announced.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(server.closedByClient).toBe(1);
    await http.request({ url: server.url });
    expect(server.connections).toBe(2);
  });
});

describe('HTTPS', () => {
  let pki: Pki;
  let defaults: string[];
  beforeAll(async () => {
    pki = await generatePki();
    defaults = getCACertificates('default');
    // As NODE_EXTRA_CA_CERTS would for the collector: the test CA is trusted by every TLS connection.
    setDefaultCACertificates([...defaults, readFileSync(pki.caCert, 'utf8')]);
  });
  afterAll(() => setDefaultCACertificates(defaults));

  it('keeps one TLS connection for consecutive requests, resumes the session on the next one, and verifies the certificate', async () => {
    const handshakes: boolean[] = [];
    const server = createHttpsServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
    });
    server.on('secureConnection', (socket: TLSSocket) => socket.once('data', () => handshakes.push(socket.isSessionReused())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    closers.push(() => server.closeAllConnections());
    const port = (server.address() as AddressInfo).port;
    const http = new HttpClient(fast);
    for (const page of [1, 2, 3]) expect((await http.request({ url: `https://localhost:${port}/p${page}` })).json()).toEqual({ path: `/p${page}` });
    expect(handshakes).toEqual([false]);
    server.closeAllConnections();
    await new Promise((r) => setTimeout(r, 50));
    expect((await http.request({ url: `https://localhost:${port}/again` })).status).toBe(200);
    expect(handshakes).toEqual([false, true]);

    // A certificate no trusted CA signed is refused, never read from.
    const foreign = await generatePki();
    const impostor = createHttpsServer({ cert: readFileSync(foreign.serverCert), key: readFileSync(foreign.serverKey) }, (_, res) => res.end('{}'));
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
    const refused = await http.request({ url: `https://localhost:${(impostor.address() as AddressInfo).port}/`, retries: 0 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).message).toMatch(/certificate/i);
  });
});
