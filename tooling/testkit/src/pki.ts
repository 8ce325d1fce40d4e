import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Absolute paths of a throw-away PKI: a CA, a server and a client certificate signed by it, and a rogue one. */
export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  /** Server certificate with SAN DNS:localhost and IP:127.0.0.1, EKU serverAuth. */
  serverCert: string;
  serverKey: string;
  /** Client certificate signed by the CA, EKU clientAuth: accepted by x509/certvalid. */
  clientCert: string;
  clientKey: string;
  /** Self-signed client certificate (a foreign CA): must be rejected. */
  rogueCert: string;
  rogueKey: string;
}

// The one PKI generator of tests, demo, bench and the image smoke run. Made with node:crypto and a small DER
// encoder, not the openssl CLI: the demo runs on a fresh clone with only Node, and EC P-256 keys take
// milliseconds, which matters when several test files build their own PKI at once on a 2-core machine.
// The certificates are valid for a week: every user makes a fresh PKI per run.

// ---- minimal DER encoder (only what an X.509 v3 certificate needs) ----------------------------------------
function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([tag, len]);
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octets = (content: Buffer) => tlv(0x04, content);
const bool = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
function bits(content: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}
function integer(value: Buffer): Buffer {
  let v = value;
  while (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) v = v.subarray(1);
  return tlv(0x02, (v[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [];
    let n = part;
    do {
      chunk.unshift((n & 0x7f) | (chunk.length ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  // RFC 5280: UTCTime until 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}
const name = (commonName: string) => seq(set(seq(oid('2.5.4.3'), utf8(commonName))));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

interface KeyPair {
  privateKey: KeyObject;
  spki: Buffer;
  keyId: Buffer;
}
function newKey(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, spki, keyId: createHash('sha1').update(spki).digest() };
}

interface CertSpec {
  subject: string;
  key: KeyPair;
  issuer: { name: string; key: KeyPair };
  ca?: boolean;
  usage?: 'server' | 'client';
  dnsNames?: string[];
  ipAddresses?: string[];
}

function certificate(spec: CertSpec): Buffer {
  const now = Date.now();
  const extensions: Buffer[] = [
    extension('2.5.29.19', true, spec.ca ? seq(bool(true)) : seq()),
    // keyCertSign + cRLSign (bits 5, 6) for a CA; digitalSignature (bit 0) for an EC leaf.
    extension('2.5.29.15', true, spec.ca ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0x80]), 7)),
    extension('2.5.29.14', false, octets(spec.key.keyId)),
    extension('2.5.29.35', false, seq(tlv(0x80, spec.issuer.key.keyId))),
  ];
  if (spec.usage) extensions.push(extension('2.5.29.37', false, seq(oid(spec.usage === 'server' ? SERVER_AUTH : CLIENT_AUTH))));
  const altNames = [
    ...(spec.dnsNames ?? []).map((dns) => tlv(0x82, Buffer.from(dns))),
    ...(spec.ipAddresses ?? []).map((ip) => tlv(0x87, Buffer.from(ip.split('.').map(Number)))),
  ];
  if (altNames.length) extensions.push(extension('2.5.29.17', false, seq(...altNames)));
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(randomBytes(16)),
    ECDSA_SHA256,
    name(spec.issuer.name),
    seq(time(new Date(now - 3_600_000)), time(new Date(now + 7 * 86_400_000))),
    name(spec.subject),
    spec.key.spki,
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, spec.issuer.key.privateKey); // DER ECDSA-Sig-Value, as X.509 wants
  return seq(tbs, ECDSA_SHA256, bits(signature));
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/**
 * Generates a fresh PKI under `dir` (a new temporary directory by default; created if missing) and returns
 * the absolute paths. Nothing is shared between calls, so concurrent test files never interfere.
 */
export async function generatePki(dir?: string): Promise<Pki> {
  const pkiDir = dir ?? mkdtempSync(join(tmpdir(), 'pki-'));
  mkdirSync(pkiDir, { recursive: true });
  const write = (file: string, text: string, mode = 0o644) => {
    const path = join(pkiDir, file);
    writeFileSync(path, text, { mode });
    return path;
  };
  const keyPem = (key: KeyPair) => key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  const caKey = newKey();
  const ca = { name: 'Test Devo CA', key: caKey };
  const caDer = certificate({ subject: ca.name, key: caKey, issuer: ca, ca: true });
  const serverKey = newKey();
  const serverDer = certificate({ subject: 'localhost', key: serverKey, issuer: ca, usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const clientKey = newKey();
  const clientDer = certificate({ subject: 'collector-client', key: clientKey, issuer: ca, usage: 'client' });
  const rogueKey = newKey();
  const rogue = { name: 'rogue', key: rogueKey };
  const rogueDer = certificate({ subject: 'rogue', key: rogueKey, issuer: rogue, usage: 'client' });

  return {
    dir: pkiDir,
    caCert: write('ca.crt', pem(caDer)),
    caKey: write('ca.key', keyPem(caKey), 0o600),
    serverCert: write('server.crt', pem(serverDer)),
    serverKey: write('server.key', keyPem(serverKey), 0o600),
    clientCert: write('client.crt', pem(clientDer)),
    clientKey: write('client.key', keyPem(clientKey), 0o600),
    rogueCert: write('rogue.crt', pem(rogueDer)),
    rogueKey: write('rogue.key', keyPem(rogueKey), 0o600),
  };
}
