import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient, HttpError } from '@collector/sdk';
import { ResponseBody } from '../src/http/response-body.js';

// The response body (response-body.ts): the text is what a streaming decoder makes of the same bytes however
// the reads cut them, with and without an announced length, and the size limit holds for an announced length
// at the first bytes (a server announcing more is not read up to the limit first).

const tooLarge = () => new Error('too large');

/** What the former client made of these reads: a StringDecoder per read, appended. */
function streamed(pieces: Buffer[]): string {
  const decoder = new StringDecoder('utf8');
  let text = '';
  for (const piece of pieces) text += decoder.write(piece);
  return text + decoder.end();
}

function cut(bytes: Buffer, step: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += step) pieces.push(bytes.subarray(at, at + step));
  return pieces;
}

describe('ResponseBody', () => {
  // Multi-byte characters (2, 3 and 4 bytes) cut at every offset by small reads, and malformed sequences:
  // a lone continuation byte, a truncated 3-byte sequence, an overlong encoding, a surrogate, a truncated end.
  const texts = [
    Buffer.from('{"a":"Zoë 🦊 — ✓","b":[1,2,3]}'),
    Buffer.concat([Buffer.from('ok '), Buffer.from([0x80, 0x41, 0xe2, 0x82, 0x41, 0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from(' end'), Buffer.from([0xf0, 0x9f, 0xa6])]),
    Buffer.alloc(0),
  ];

  for (const [index, bytes] of texts.entries()) {
    for (const step of [1, 2, 3, 7, bytes.length || 1]) {
      it(`text ${index} in reads of ${step} bytes decodes as the streaming decoder did, with and without an announced length`, () => {
        const pieces = cut(bytes, step);
        for (const announced of [bytes.length, undefined]) {
          const body = new ResponseBody(1 << 20, tooLarge);
          for (const piece of pieces) body.add(piece, announced);
          expect(body.size).toBe(bytes.length);
          expect(body.text()).toBe(streamed(pieces));
        }
      });
    }
  }

  it('a read buffer reused after it was handed on does not change the text', () => {
    const read = Buffer.from('abcdef');
    const body = new ResponseBody(100, tooLarge);
    body.add(read.subarray(0, 3), 6);
    read.write('XYZ', 0);
    body.add(read.subarray(3), 6);
    expect(body.text()).toBe('abcdef');
  });

  it('refuses an announced length above the limit at the first byte, before allocating it', () => {
    const body = new ResponseBody(1000, tooLarge);
    expect(() => body.add(Buffer.from('{'), 2 ** 40)).toThrow('too large');
  });

  it('refuses a body without length once what was read exceeds the limit', () => {
    const body = new ResponseBody(10, tooLarge);
    body.add(Buffer.alloc(6, 0x61), undefined);
    expect(() => body.add(Buffer.alloc(6, 0x61), undefined)).toThrow('too large');
  });
});

describe('the HTTP client and the body size limit', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });

  /** A server that answers every request with `head` and the first bytes of a body, then stays silent. */
  async function silentAfter(answer: string): Promise<string> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => socket.write(answer));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('a response announcing more than maxResponseBytes fails as too-large at its first bytes, not after the timeout', async () => {
    const url = await silentAfter(`HTTP/1.1 200 OK\r\ncontent-length: ${2 ** 40}\r\n\r\n{"data":[`);
    const started = Date.now();
    const error = await new HttpClient({ maxResponseBytes: 1 << 20, timeoutMs: 5_000 }).request({ url, retries: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).kind).toBe('too-large');
    expect((error as HttpError).message).toContain(`exceeds ${1 << 20} bytes`);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('reads a body with and without Content-Length to the same text', async () => {
    const json = JSON.stringify({ data: Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `Zoë 🦊 ${i}` })) });
    const length = await silentAfter(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
    const chunked = await silentAfter(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${Buffer.byteLength(json).toString(16)}\r\n${json}\r\n0\r\n\r\n`);
    const http = new HttpClient({ timeoutMs: 5_000 });
    expect((await http.request({ url: length, retries: 0 })).text).toBe(json);
    expect((await http.request({ url: chunked, retries: 0 })).text).toBe(json);
  });
});
