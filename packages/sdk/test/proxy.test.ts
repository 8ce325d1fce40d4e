import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get as httpsGet, type Agent as HttpsAgent } from 'node:https';
import { proxyAgents } from '@collector/sdk';
import { clearSecrets, ConfigError, proxyFor, redact, resolveProxy } from '@collector/sdk/host';
import { startLarkSimulator, type LarkSimulator } from '@collector/simulators';
import { generatePki, startTinyproxy, startTlsFront, type Pki, type Tinyproxy, type TlsFront } from '@collector/testkit';

const HOUR = 3_600_000;
const child = fileURLToPath(new URL('./fixtures/proxy-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const testsTsconfig = join(repoRoot, 'tsconfig.tests.json');
const PROXY_USER = 'soc-proxy';
const PROXY_PASSWORD = 'Pr0xy-S3cret.9f8e7d';

describe('proxy settings', () => {
  afterEach(() => clearSecrets());
  const target = (url: string) => new URL(url);

  it('reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY, lower case first; globals.proxy wins key by key', () => {
    const env = { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', HTTP_PROXY: 'plain:8080', NO_PROXY: '.internal.example, 10.0.0.0/8 ,vendor.test:8443' };
    const settings = resolveProxy(undefined, env)!;
    expect(proxyFor(target('https://api.vendor.test/x'), settings)?.host).toBe('lower:3128');
    expect(proxyFor(target('http://api.vendor.test/x'), settings)?.href).toBe('http://plain:8080/');
    // NO_PROXY: a domain and its subdomains, a CIDR range, a host on one port only.
    expect(proxyFor(target('https://internal.example/'), settings)).toBeUndefined();
    expect(proxyFor(target('https://a.b.internal.example/'), settings)).toBeUndefined();
    expect(proxyFor(target('https://notinternal.example/'), settings)).toBeDefined();
    expect(proxyFor(target('https://10.20.30.40/'), settings)).toBeUndefined();
    expect(proxyFor(target('https://11.0.0.1/'), settings)).toBeDefined();
    expect(proxyFor(target('https://vendor.test:8443/'), settings)).toBeUndefined();
    expect(proxyFor(target('https://vendor.test/'), settings)).toBeDefined();

    const configured = resolveProxy({ https_proxy: 'http://corp:3128', no_proxy: ['*.vendor.test'] }, env)!;
    expect(proxyFor(target('https://other.test/'), configured)?.host).toBe('corp:3128');
    expect(proxyFor(target('https://x.vendor.test/'), configured)).toBeUndefined();
    expect(proxyFor(target('https://internal.example/'), configured)).toBeDefined();
    expect(proxyFor(target('http://other.test/'), configured)?.host).toBe('plain:8080');
    // Only HTTP_PROXY: https:// goes through it too. `*` and `enabled: false`: nothing is proxied.
    expect(proxyFor(target('https://x.test/'), resolveProxy(undefined, { http_proxy: 'http://only:1' }))?.host).toBe('only:1');
    expect(proxyFor(target('https://x.test/'), resolveProxy(undefined, { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' }))).toBeUndefined();
    expect(resolveProxy({ enabled: false }, env)).toBeUndefined();
    expect(resolveProxy(undefined, {})).toBeUndefined();
  });

  it('the password of a proxy URL is a secret at once; a bad proxy URL is ConfigError 14 without it', () => {
    const odd = 'Pr0xy/S3cret:with@odd chars';
    resolveProxy(undefined, { HTTPS_PROXY: `http://${PROXY_USER}:${encodeURIComponent(odd)}@proxy:3128` });
    expect(redact(`it was ${odd} or ${encodeURIComponent(odd)}`)).toBe('it was **** or ****');
    let error: unknown;
    try {
      resolveProxy({ https_proxy: 'socks5://user:Another-Secret-77@proxy:1080' }, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).toLine()).toBe('ConfigError 14: The proxy socks5://proxy:1080 is not an HTTP proxy; use http:// or https:// (globals.proxy.https_proxy)');
    expect(() => resolveProxy(undefined, { HTTPS_PROXY: 'http://[broken' })).toThrow(/^The proxy address is not a URL/);
  });
});

/**
 * The Lark collector as a real process pulls from the Lark simulator over HTTPS (behind a TLS front with the
 * test PKI's server certificate), through Debian's tinyproxy requiring Basic credentials: the proxy's own log
 * must show the CONNECTs, and NO_PROXY must bypass it.
 */
describe('a collector behind an HTTPS proxy (tinyproxy)', () => {
  let pki: Pki;
  let proxy: Tinyproxy;
  let sim: LarkSimulator;
  let front: TlsFront;
  const APP_ID = 'cli_proxy0test01';
  const APP_SECRET = 'Lark-Secret-proxy-123456';

  beforeAll(async () => {
    [pki, proxy, sim] = await Promise.all([
      generatePki(),
      startTinyproxy({ user: PROXY_USER, password: PROXY_PASSWORD }),
      startLarkSimulator({ appId: APP_ID, appSecret: APP_SECRET, generate: { count: 120, from: new Date(Date.now() - 5 * HOUR), to: new Date(Date.now() - 60_000) } }),
    ]);
    front = await startTlsFront(Number(new URL(sim.url).port), pki);
  });
  afterAll(async () => {
    await Promise.all([proxy?.stop(), sim?.close(), front?.close()]);
  });

  function configYaml(globals = ''): string {
    return `globals:
  persistence: {type: filesystem, config: {directory_name: state}}
  http_server: {enabled: false}
${globals}
outputs: {}
inputs:
  lark:
    id: 964383
    credentials: {app_id: ${APP_ID}, app_secret: ${APP_SECRET}}
    services:
      audit_infos: {override_base_url: "${front.url}", initial_start_time_in_utc_value: "${new Date(Date.now() - 6 * HOUR).toISOString().slice(0, 19)}Z"}
`;
  }

  /** `--once` in a fresh directory; returns the exit code, everything it printed, and the events it delivered. */
  async function collect(env: Record<string, string>, globals = '') {
    const workDir = mkdtempSync(join(tmpdir(), 'proxy-collector-'));
    mkdirSync(join(workDir, 'config'));
    writeFileSync(join(workDir, 'config', 'config.yaml'), configYaml(globals));
    const outFile = join(workDir, 'events.jsonl');
    const base: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^(https?_proxy|no_proxy)$/i.test(key)) base[key] = value;
    const proc = spawn(process.execPath, ['--import', 'tsx', child, '--once'], {
      cwd: repoRoot, // where tsx resolves
      env: { ...base, WORK_DIR: workDir, TSX_TSCONFIG_PATH: testsTsconfig, NODE_EXTRA_CA_CERTS: pki.caCert, OUT_FILE: outFile, LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
    const events = existsSync(outFile) ? readFileSync(outFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { unique_id: string }) : [];
    return { code, output, events };
  }

  const connectsToVendor = () => proxy.connects().filter((c) => c === `localhost:${front.port}`).length;
  const truth = () => sim.events.map((e) => e.unique_id).sort();

  it('HTTPS_PROXY with credentials: every event arrives, through CONNECTs the proxy logged; the password is never printed', async () => {
    const before = connectsToVendor();
    const tlsBefore = front.connections;
    const { code, output, events } = await collect({ HTTPS_PROXY: `http://${PROXY_USER}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:${proxy.port}` });
    expect(output).not.toContain('Error');
    expect(code).toBe(0);
    expect(events.map((e) => e.unique_id).sort()).toEqual(truth());
    expect(connectsToVendor()).toBeGreaterThan(before);
    expect(front.connections - tlsBefore).toBe(connectsToVendor() - before);
    expect(output).toContain(`Outbound proxy: https:// through http://127.0.0.1:${proxy.port} (with credentials)`);
    expect(output).not.toContain(PROXY_PASSWORD);
    expect(output).not.toContain(encodeURIComponent(PROXY_PASSWORD));
    // JSON logs from the first line, with a zone on every timestamp.
    for (const line of output.split('\n').filter(Boolean)) expect(JSON.parse(line).time).toMatch(/Z$/);
  });

  it('NO_PROXY bypasses it: the same pull, and no new CONNECT in the proxy log', async () => {
    const before = proxy.connects().length;
    const tlsBefore = front.connections;
    const { code, events, output } = await collect({ HTTPS_PROXY: `http://${PROXY_USER}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:${proxy.port}`, NO_PROXY: 'localhost' });
    expect(code, output).toBe(0);
    expect(events.map((e) => e.unique_id).sort()).toEqual(truth());
    expect(front.connections).toBeGreaterThan(tlsBefore);
    expect(proxy.connects().length).toBe(before);
  });

  it('globals.proxy for operators who cannot set the environment; a wrong password is refused by the proxy and never printed', async () => {
    const before = connectsToVendor();
    const url = (password: string) => `http://${PROXY_USER}:${encodeURIComponent(password)}@127.0.0.1:${proxy.port}`;
    const good = await collect({}, `  proxy: {https_proxy: "${url(PROXY_PASSWORD)}"}`);
    expect(good.code, good.output).toBe(0);
    expect(good.events.map((e) => e.unique_id).sort()).toEqual(truth());
    expect(connectsToVendor()).toBeGreaterThan(before);
    expect(good.output).not.toContain(PROXY_PASSWORD);

    const wrong = 'Wrong-Proxy-Password-42';
    const refused = await collect({ HTTPS_PROXY: url(wrong) });
    expect(refused.code).toBe(1);
    expect(refused.events).toEqual([]);
    expect(refused.output).toMatch(/the proxy refused the credentials \(HTTP 40[17] to CONNECT\)/);
    expect(refused.output).not.toMatch(/retry 1\/5/); // wrong credentials are not retried
    expect(refused.output).not.toContain(wrong);
    expect(proxy.log()).toMatch(/CONNECT localhost:\d+ HTTP/);
  });

  it('proxyAgents (the AWS SDK\'s Node agents): TLS to the vendor inside a CONNECT tunnel, direct for NO_PROXY', async () => {
    const proxyUrl = `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`;
    const status = (agent: HttpsAgent) =>
      new Promise<number>((resolve, reject) => {
        httpsGet(`${front.url}/open-apis/nothing-here`, { agent, ca: readFileSync(pki.caCert) }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).once('error', reject);
      });
    const before = connectsToVendor();
    const tunnelled = proxyAgents(resolveProxy(undefined, { HTTPS_PROXY: proxyUrl }), { keepAlive: false });
    expect(await status(tunnelled.httpsAgent)).toBe(404); // the simulator's own answer, through the tunnel
    expect(connectsToVendor()).toBe(before + 1);
    const direct = proxyAgents(resolveProxy(undefined, { HTTPS_PROXY: proxyUrl, NO_PROXY: `localhost:${front.port}` }), { keepAlive: false });
    expect(await status(direct.httpsAgent)).toBe(404);
    expect(connectsToVendor()).toBe(before + 1);
    const refused = proxyAgents(resolveProxy(undefined, { HTTPS_PROXY: `http://${PROXY_USER}:wrong-password@127.0.0.1:${proxy.port}` }), { keepAlive: false });
    await expect(status(refused.httpsAgent)).rejects.toThrow(`The proxy http://127.0.0.1:${proxy.port} (with credentials) answered 401`);
  });
});
