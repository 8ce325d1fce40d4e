import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devoOutputConfig, startRsyslog, type Rsyslog } from '../src/index.js';

type Identity = 'client' | 'rogue' | 'none';

/** Sends raw bytes over TLS and resolves with the first error seen (TLS 1.3 rejections arrive late). */
function sendTls(r: Rsyslog, bytes: Buffer, who: Identity = 'client', port = r.port): Promise<{ error?: string }> {
  const identity =
    who === 'client' ? { cert: readFileSync(r.pki.clientCert), key: readFileSync(r.pki.clientKey) }
    : who === 'rogue' ? { cert: readFileSync(r.pki.rogueCert), key: readFileSync(r.pki.rogueKey) }
    : {};
  return new Promise((resolve) => {
    let error: string | undefined;
    const socket: TLSSocket = connect({ host: r.host, port, servername: 'localhost', ca: readFileSync(r.pki.caCert), ...identity }, () => {
      socket.write(bytes, () => setTimeout(() => socket.end(), 200));
    });
    socket.on('error', (e: NodeJS.ErrnoException) => { error ??= e.code ?? e.message; });
    socket.on('close', () => resolve(error === undefined ? {} : { error }));
  });
}

describe('startRsyslog', () => {
  let rsyslog: Rsyslog;
  beforeAll(async () => { rsyslog = await startRsyslog(); });
  afterAll(async () => { await rsyslog?.stop(); });

  it('stores LF-framed and octet-counted messages byte-exact, de-framed', async () => {
    const multi = '<14>2024-05-06 07:08:09.123 myhost my.app.test.multi: line1\nline2\t"q"\\ é\n';
    const bytes = Buffer.concat([
      Buffer.from('<14>2024-05-06 07:08:09.123 myhost my.app.test.x: {"a":1,"p":"/x"}\n'),
      Buffer.from(`${Buffer.byteLength(multi)} ${multi}`),
      Buffer.from('<14>after\n'),
    ]);
    expect(await sendTls(rsyslog, bytes)).toEqual({});
    const lines = await rsyslog.waitForLines(3);
    expect(lines.slice(0, 3)).toEqual(['<14>2024-05-06 07:08:09.123 myhost my.app.test.x: {"a":1,"p":"/x"}', multi, '<14>after']);
  });

  it('rejects a client without a certificate and one from a foreign CA', async () => {
    const before = rsyslog.lines().length;
    const none = await sendTls(rsyslog, Buffer.from('<14>no cert\n'), 'none');
    const rogue = await sendTls(rsyslog, Buffer.from('<14>rogue cert\n'), 'rogue');
    expect(none.error).toBeDefined();
    expect(rogue.error).toBeDefined();
    await sendTls(rsyslog, Buffer.from('<14>marker\n'));
    const lines = await rsyslog.waitForLines(before + 1);
    expect(lines.slice(before)).toEqual(['<14>marker']);
  });

  it('keeps received lines across stop() and restart() on the same port', async () => {
    const port = rsyslog.port;
    const before = rsyslog.lines().length;
    await rsyslog.stop();
    expect(rsyslog.lines().length).toBe(before);
    await rsyslog.restart();
    expect(rsyslog.port).toBe(port);
    await sendTls(rsyslog, Buffer.from('<14>after restart\n'));
    expect((await rsyslog.waitForLines(before + 1)).at(-1)).toBe('<14>after restart');
  });

  it('keeps one exit listener however often it restarts', async () => {
    const listeners = process.listenerCount('exit');
    for (let i = 0; i < 3; i++) await rsyslog.restart();
    expect(process.listenerCount('exit')).toBe(listeners);
  });

  it('describes itself as a devo_platform output', () => {
    expect(devoOutputConfig(rsyslog)).toEqual({
      devo_1: { type: 'devo_platform', config: { address: '127.0.0.1', port: rsyslog.port, type: 'SSL', chain: rsyslog.pki.caCert, cert: rsyslog.pki.clientCert, key: rsyslog.pki.clientKey } },
    });
  });

  it('listens on one port unless asked for more listeners', () => {
    expect(rsyslog.ports).toEqual([rsyslog.port]);
  });

  it('opens one TLS listener per port with listeners: N, all into the same output', async () => {
    const relay = await startRsyslog({ pki: rsyslog.pki, listeners: 3 });
    try {
      expect(relay.ports[0]).toBe(relay.port);
      expect(new Set(relay.ports).size).toBe(3);
      for (const [i, port] of relay.ports.entries()) expect(await sendTls(relay, Buffer.from(`<14>via listener ${i}\n`), 'client', port)).toEqual({});
      expect((await relay.waitForLines(3)).sort()).toEqual(['<14>via listener 0', '<14>via listener 1', '<14>via listener 2']);
      expect((await sendTls(relay, Buffer.from('<14>no cert\n'), 'none', relay.ports[2])).error).toBeDefined();
    } finally {
      await relay.stop();
    }
  });

  it('runs several instances side by side', async () => {
    const [a, b] = await Promise.all([startRsyslog(), startRsyslog({ pki: rsyslog.pki })]);
    try {
      expect(new Set([a.port, b.port, rsyslog.port]).size).toBe(3);
      await Promise.all([sendTls(a, Buffer.from('<14>to a\n')), sendTls(b, Buffer.from('<14>to b\n'))]);
      expect(await a.waitForLines(1)).toEqual(['<14>to a']);
      expect(await b.waitForLines(1)).toEqual(['<14>to b']);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
