import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rsyslogAvailable, runDemo, scenarios, startNodeReceiver, startRsyslogReceiver } from '@collector/demo';
import { generatePki, type Pki } from '@collector/testkit';

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

describe('demo building blocks', () => {
  it('the Node receiver takes a client certificate from the demo CA and refuses none or a rogue one', async () => {
    const pki = await generatePki(join(mkdtempSync(join(tmpdir(), 'demo-pki-')), 'pki'));
    const receiver = await startNodeReceiver(pki);
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

describe('the demo PKI with rsyslogd (the receiver pnpm demo prefers)', () => {
  it('rsyslogd accepts the demo client certificate and refuses a rogue one', async () => {
    if (!rsyslogAvailable()) throw new Error('rsyslogd with the OpenSSL driver is missing: apt-get install rsyslog rsyslog-openssl');
    const dir = mkdtempSync(join(tmpdir(), 'demo-rsyslog-'));
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

describe('runDemo', () => {
  it('runs every collector against its simulator and the TLS receiver; each expected event arrives once', async () => {
    const result = await runDemo({ scale: 0.1, receiver: 'node', out: null, deadlineMs: 50_000 });
    // All five run: AWS on moto, or on the demo's own mini S3/SQS when moto is missing.
    expect(result.collectors.map((c) => [c.vendor, c.status, c.errors])).toEqual(scenarios.map((s) => [s.vendor, 'ok', []]));
    for (const t of result.tags) expect({ tag: t.tag, arrived: t.arrived }).toEqual({ tag: t.tag, arrived: t.expected });
    expect(result.tags.every((t) => t.arrived > 0)).toBe(true);
    // The collectors' own logs travel over the same TLS connection, as in Devo.
    expect([...result.internalTags.keys()]).toContain('devo.collectors.out.local.info');
    expect(result.ok).toBe(true);
    expect(scenarios.map((s) => s.vendor)).toEqual(['lark', 'o365-emt', 'darktrace', 'proofpoint-tap', 'aws-sqs']);
  }, 90_000);

  it('without moto, aws-sqs runs on the demo\'s own mini S3/SQS/STS through the real AWS SDK', async () => {
    process.env['DEMO_AWS'] = 'mini';
    try {
      const aws = scenarios.filter((s) => s.vendor === 'aws-sqs');
      const result = await runDemo({ scenarios: aws, scale: 0.2, receiver: 'node', out: null, deadlineMs: 30_000 });
      expect(result.collectors[0]).toMatchObject({ vendor: 'aws-sqs', status: 'ok', errors: [], note: expect.stringContaining('mini') });
      expect(result.tags).toEqual([{ tag: 'cloud.aws.cloudtrail.events', collector: 'aws-sqs', expected: 200, arrived: 200 }]);
      expect(result.ok).toBe(true);
    } finally {
      delete process.env['DEMO_AWS'];
    }
  }, 60_000);
});
