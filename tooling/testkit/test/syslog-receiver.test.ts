import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { generatePki, rsyslogAvailable, startNodeSyslogReceiver, startRsyslogReceiver, type Pki } from '../src/index.js';

function send(pki: Pki, port: number, payload: string, client: 'good' | 'rogue' | 'none'): Promise<'sent' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(pki.caCert),
      servername: 'localhost',
      ...(client === 'good' ? { cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) } : {}),
      ...(client === 'rogue' ? { cert: readFileSync(pki.rogueCert), key: readFileSync(pki.rogueKey) } : {}),
    });
    socket.on('secureConnect', () => socket.end(payload));
    // TLS 1.3: a refused client certificate shows up as an error or a reset after the handshake.
    socket.on('error', () => resolve('refused'));
    socket.on('close', () => resolve('sent'));
  });
}

describe('startNodeSyslogReceiver', () => {
  it('the Node receiver takes a client certificate from the CA and refuses none or a rogue one', async () => {
    const pki = await generatePki(join(mkdtempSync(join(tmpdir(), 'receiver-pki-')), 'pki'));
    const receiver = await startNodeSyslogReceiver(pki);
    try {
      await send(pki, receiver.port, '<14>2024-01-01 00:00:00.000 h a.b.c: hello\n', 'good');
      await send(pki, receiver.port, '<14>2024-01-01 00:00:00.000 h a.b.c: no cert\n', 'none');
      await send(pki, receiver.port, '<14>2024-01-01 00:00:00.000 h a.b.c: rogue\n', 'rogue');
      await new Promise((r) => setTimeout(r, 100));
      expect(receiver.messages()).toEqual(['<14>2024-01-01 00:00:00.000 h a.b.c: hello']);
      expect(receiver.countsByTag().get('a.b.c')).toBe(1);
      expect(receiver.rejected()).toBe(2);
    } finally {
      await receiver.close();
    }
  });
});

describe('startRsyslogReceiver (the receiver startSyslogReceiver prefers)', () => {
  it('rsyslogd accepts the client certificate and refuses a rogue one', async () => {
    if (!rsyslogAvailable()) throw new Error('rsyslogd with the OpenSSL driver is missing: apt-get install rsyslog rsyslog-openssl');
    const dir = mkdtempSync(join(tmpdir(), 'receiver-rsyslog-'));
    const pki = await generatePki(join(dir, 'pki'));
    const receiver = await startRsyslogReceiver(pki, join(dir, 'receiver'));
    try {
      await send(pki, receiver.port, '<14>2024-01-01 00:00:00.000 h rogue.tag: rogue\n', 'rogue');
      await send(pki, receiver.port, '<14>2024-01-01 00:00:00.000 h demo.tag: hello\n', 'good');
      const deadline = Date.now() + 10_000;
      while (receiver.messages().length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(receiver.messages()).toEqual(['<14>2024-01-01 00:00:00.000 h demo.tag: hello']);
      expect(receiver.countsByTag()).toEqual(new Map([['demo.tag', 1]]));
    } finally {
      await receiver.close();
    }
  });
});
