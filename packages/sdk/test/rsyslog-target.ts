import { readFileSync } from 'node:fs';
import type { ConnectionTarget } from '@collector/sdk/host';
import type { Rsyslog } from '@collector/testkit';

/** A StreamConnection's target: the test's rsyslog over TLS with its client certificate, a 20 ms settle. */
export function rsyslogTarget(rsyslog: Pick<Rsyslog, 'port' | 'pki'>): ConnectionTarget {
  return {
    host: '127.0.0.1',
    port: rsyslog.port,
    tls: { ca: readFileSync(rsyslog.pki.caCert), cert: readFileSync(rsyslog.pki.clientCert), key: readFileSync(rsyslog.pki.clientKey), checkHostname: true },
    connectTimeoutMs: 10_000,
    sendTimeoutMs: 5_000,
    settleMs: 20,
    verifyGraceMs: 1_000,
  };
}
