import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

// EC P-256 keys: generation takes milliseconds, which matters when several test files build their own PKI
// at the same time on a 2-core machine. TLS behaviour (verification, rejection) is the same as with RSA.
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(cwd: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd });
}

/**
 * Generates a fresh PKI with openssl under `dir` (a new temporary directory by default) and returns the
 * absolute paths. Nothing is shared between calls, so concurrent test files never interfere.
 */
export async function generatePki(dir?: string): Promise<Pki> {
  const pkiDir = dir ?? mkdtempSync(join(tmpdir(), 'pki-'));
  mkdirSync(pkiDir, { recursive: true });
  const p = (name: string) => join(pkiDir, name);

  await openssl(pkiDir, ['req', '-x509', ...KEY_ARGS, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650',
    '-subj', '/CN=Test Devo CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);

  writeFileSync(p('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  // Server, client and rogue keys are independent: generate them in parallel.
  await Promise.all([
    openssl(pkiDir, ['req', ...KEY_ARGS, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']),
    openssl(pkiDir, ['req', ...KEY_ARGS, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=collector-client']),
    openssl(pkiDir, ['req', '-x509', ...KEY_ARGS, '-keyout', 'rogue.key', '-out', 'rogue.crt', '-days', '30',
      '-subj', '/CN=rogue', '-addext', 'extendedKeyUsage=clientAuth']),
  ]);
  // Random serials (no shared .srl file) so the two signatures can run at once.
  await Promise.all([
    openssl(pkiDir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', randomSerial(),
      '-out', 'server.crt', '-days', '825', '-extfile', 'server.ext']),
    openssl(pkiDir, ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', randomSerial(),
      '-out', 'client.crt', '-days', '825', '-extfile', 'client.ext']),
  ]);

  return {
    dir: pkiDir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    rogueCert: p('rogue.crt'),
    rogueKey: p('rogue.key'),
  };
}

function randomSerial(): string {
  return String(1 + Math.floor(Math.random() * 2 ** 40));
}
