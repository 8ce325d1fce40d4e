// Security checks on every collector (runs in CI; no timing asserted):
// - a run with known secret values and debug logging: none of them (nor their base64 forms) in stdout,
//   stderr, any file under the working directory but the config, --show-state, or anything rsyslog received;
//   every state file is mode 0600;
// - plain HTTP to a non-loopback address is refused unless `allow_insecure_http: true`;
// - TLS verification is on by default: a vendor endpoint and a Devo receiver whose CA is not trusted fail.
import { readFileSync, statSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePki, isCollectorLogTag, isVendorEventLine, startRsyslog, tryParseReceivedLine, type Pki, type Rsyslog } from '@collector/testkit';
import { outputsFor } from '../src/lib/output.js';
import { appMain } from '../src/lib/paths.js';
import { runNode } from '../src/lib/run-child.js';
import { makeWorkDir } from '../src/lib/workdir.js';
import { ADAPTERS, shutdownAdapters } from '../src/vendors/index.js';
import { cli, ERROR_LINE, filesUnder, newWorkDir, tcpForwarder } from './helpers.js';

const HTTP_VENDORS = ADAPTERS;
let rsyslog: Rsyslog;
let foreignPki: Pki;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  [rsyslog, foreignPki] = await Promise.all([startRsyslog(), generatePki()]);
});
afterAll(async () => {
  while (closers.length) await closers.pop()!();
  await rsyslog?.stop();
  await shutdownAdapters();
});

/** A secret and the encodings it could leak in (HTTP Basic carries base64 of `user:secret`). */
function forms(secrets: string[]): string[] {
  const out = new Set<string>();
  for (const s of secrets) {
    out.add(s);
    out.add(Buffer.from(s).toString('base64'));
    out.add(encodeURIComponent(s));
  }
  return [...out].filter((s) => s.length >= 8);
}

describe.each(HTTP_VENDORS.map((a) => [a.name, a] as const))('%s', (name, adapter) => {
  // pnpm test builds every app before vitest runs.
  it(
    'a debug run leaks no secret into output, state, --show-state or the receiver; state files are 0600',
    async () => {
      const scenario = await adapter.start({ events: 50 });
      closers.push(() => scenario.close());
      const config = scenario.config({ outputs: outputsFor(rsyslog) });
      (config['globals'] as Record<string, unknown>)['debug'] = true;
      const { dir, configFile } = makeWorkDir(`sec-${name}`, config);
      const before = rsyslog.lines().length;
      const run = await runNode(appMain(name), ['--once', '--config', configFile], { cwd: dir, timeoutMs: 60_000 });
      expect(run.code, run.stdout.slice(-2000)).toBe(0);
      const show = await runNode(appMain(name), ['--show-state', '--config', configFile], { cwd: dir, timeoutMs: 30_000 });
      const received = rsyslog.lines().slice(before);
      expect(received.filter(isVendorEventLine).length).toBeGreaterThan(0);
      expect(received.some((l) => isCollectorLogTag(tryParseReceivedLine(l)?.tag ?? ''))).toBe(true);

      const files = filesUnder(dir).filter((f) => f !== configFile);
      const haystacks: [string, string][] = [
        ['stdout', run.stdout],
        ['stderr', run.stderr],
        ['--show-state', show.stdout + show.stderr],
        ['received by rsyslog', received.join('\n')],
        ...files.map((f) => [relative(dir, f), readFileSync(f, 'latin1')] as [string, string]),
      ];
      const secrets = forms([...scenario.secrets(), ...basicAuthForms(config)]);
      expect(secrets.length).toBeGreaterThan(0);
      for (const [where, text] of haystacks) {
        for (const secret of secrets) expect(text.includes(secret), `a secret (${secret.slice(0, 3)}…) in ${where}`).toBe(false);
      }
      const stateFiles = files.filter((f) => relative(dir, f).startsWith('state'));
      // The AWS collector keeps no state of its own (the queue is its state): any file there is still checked.
      if (!adapter.stateless) expect(stateFiles.length).toBeGreaterThan(0);
      for (const f of stateFiles) expect((statSync(f).mode & 0o777).toString(8), relative(dir, f)).toBe('600');
    },
    90_000,
  );

  // The AWS collector talks through the AWS SDK (its own transport and endpoint rules), not the SDK's
});

// The SDK's HttpClient rules (plain HTTP, TLS verification) apply to the HTTP collectors; aws-sqs talks to AWS
// through the AWS SDK (HTTPS endpoints, or an explicit endpoint_url), so it is not listed here.
describe.each(HTTP_VENDORS.filter((a) => a.name !== 'aws-sqs').map((a) => [a.name, a] as const))('%s over HTTP', (name, adapter) => {
  it('plain HTTP to a non-loopback address is refused, and used once allow_insecure_http is set', async () => {
    const scenario = await adapter.start({ events: 5 });
    closers.push(() => scenario.close());
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(JSON.stringify(scenario.config({ outputs: {} })))![1]);
    const forwarder = await tcpForwarder(port);
    closers.push(() => forwarder.close());
    const refusedConfig = scenario.config({ outputs: {}, baseUrl: forwarder.url });
    delete refusedConfig['outputs'];
    const refused = await cli(name, newWorkDir(`http-${name}`), refusedConfig, ['--once']);
    expect(refused.code).not.toBe(0);
    expect(refused.logs).toMatch(ERROR_LINE);
    expect(refused.logs).toMatch(/Refusing plain http:|allow_insecure_http/);
    expect(forwarder.connections, 'no byte went out in plain text').toBe(0);

    const allowedConfig = scenario.config({ outputs: {}, baseUrl: forwarder.url, input: { allow_insecure_http: true } });
    delete allowedConfig['outputs'];
    const allowed = await cli(name, newWorkDir(`http-${name}`), allowedConfig, ['--once']);
    expect(allowed.code, allowed.logs.slice(-2000)).toBe(0);
    expect(forwarder.connections).toBeGreaterThan(0);
    expect(allowed.output.vendorRecords().length).toBeGreaterThan(0);
  });

  it('an HTTPS vendor endpoint whose CA is not trusted is refused (verification on by default)', async () => {
    const scenario = await adapter.start({ events: 5 });
    closers.push(() => scenario.close());
    let requests = 0;
    const server = createHttpsServer({ key: readFileSync(foreignPki.serverKey), cert: readFileSync(foreignPki.serverCert) }, (_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
    const config = scenario.config({ outputs: {}, baseUrl: `https://127.0.0.1:${(server.address() as AddressInfo).port}` });
    delete config['outputs'];
    const { code, logs } = await cli(name, newWorkDir(`tls-${name}`), config, ['--once']);
    expect(code).toBe(1);
    expect(logs).toMatch(ERROR_LINE);
    expect(logs).toMatch(/certificate|self[- ]signed|UNABLE_TO_VERIFY|verify/i);
    expect(requests, 'no request reached the untrusted server').toBe(0);
  });
});

describe('Devo output (SDK, shared by every collector)', () => {
  it(
    'a receiver whose CA is not the configured chain gets nothing: the output reports the certificate error',
    async () => {
      const scenario = await ADAPTERS[0]!.start({ events: 5 });
      closers.push(() => scenario.close());
      const outputs = outputsFor(rsyslog) as Record<string, { config: Record<string, unknown> }>;
      outputs['devo_1']!.config['chain'] = foreignPki.caCert;
      const { dir, configFile } = makeWorkDir('sec-tls-out', scenario.config({ outputs }));
      const before = rsyslog.lines().length;
      const run = await runNode(appMain(ADAPTERS[0]!.name), ['--once', '--config', configFile], {
        cwd: dir,
        timeoutMs: 40_000,
        // The output keeps retrying (events are never dropped): stop once it has said why.
        killWhen: (chunk) => /certificate|self[- ]signed|verify/i.test(chunk),
      });
      expect(run.stdout).toMatch(/OutputError \d+: .*(certificate|self[- ]signed|verify)/i);
      expect(rsyslog.lines().length - before).toBe(0);
    },
    60_000,
  );
});

/** HTTP Basic credentials of the config (Proofpoint): base64 of `user:password` is what goes on the wire. */
function basicAuthForms(config: Record<string, unknown>): string[] {
  const text = JSON.stringify(config);
  const user = /"username":"([^"]+)"/.exec(text)?.[1];
  const password = /"password":"([^"]+)"/.exec(text)?.[1];
  return user && password ? [Buffer.from(`${user}:${password}`).toString('base64')] : [];
}

