import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// .ci/setup, the one install script of .ci/run and `pnpm test` (the README's quick start), decides from what
// the machine has: here dpkg-query, apt-get, id and node are stubs, so each case sees the machine it needs
// and nothing is installed for real. The script runs from a scratch copy of the repository layout.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ci-setup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const APT = ['rsyslog', 'rsyslog-openssl', 'redis-server', 'openssl', 'tinyproxy-bin', 'podman', 'buildah', 'runc', 'debootstrap', 'uidmap', 'catatonit'];

function stub(dir: string, name: string, body: string) {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

interface Machine {
  missing?: string[];
  uid?: number;
  nodeMajor?: number;
  /** A Node 24 that an earlier run installed into .tmp/tools/node. */
  installedNode?: boolean;
  moto?: boolean;
}

let n = 0;
async function setup(machine: Machine, ...args: string[]) {
  const root = join(scratch, String(n++));
  const bin = join(root, 'stubs');
  mkdirSync(join(root, '.ci'), { recursive: true });
  mkdirSync(bin);
  copyFileSync(join(repo, '.ci', 'setup'), join(root, '.ci', 'setup'));
  copyFileSync(join(repo, 'package.json'), join(root, 'package.json'));
  const log = join(root, 'apt.log');
  stub(bin, 'dpkg-query', `for pkg; do :; done; for p in ${(machine.missing ?? []).join(' ')}; do [ "$p" = "$pkg" ] && exit 1; done; printf 'install ok installed'`);
  stub(bin, 'apt-get', `echo "$*" >> ${log}`);
  stub(bin, 'id', `echo ${machine.uid ?? 0}`);
  stub(bin, 'node', `echo ${machine.nodeMajor ?? 24}`);
  stub(bin, 'pnpm', 'echo 9.15.9');
  if (machine.installedNode) {
    mkdirSync(join(root, '.tmp', 'tools', 'node', 'bin'), { recursive: true });
    stub(join(root, '.tmp', 'tools', 'node', 'bin'), 'node', 'echo 24');
  }
  const env: Record<string, string> = { PATH: `${bin}:/usr/bin:/bin`, HOME: root };
  if (machine.moto !== false) env['MOTO_SERVER'] = '/bin/true';
  const started = Date.now();
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('bash', [join(root, '.ci', 'setup'), ...args], { env, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  let apt = '';
  try {
    apt = readFileSync(log, 'utf8');
  } catch {
    // apt-get never ran
  }
  return { ...result, apt, seconds: (Date.now() - started) / 1000, root };
}

describe('.ci/setup', () => {
  it('a machine with everything: nothing to do, nothing printed on stdout, exit 0', async () => {
    const r = await setup({});
    expect(r).toMatchObject({ code: 0, stdout: '', apt: '' });
  });

  it('not root and a Debian package missing: stops at once with the one command that fixes it', async () => {
    const r = await setup({ uid: 1000, missing: ['redis-server'] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing Debian packages: redis-server; as root: sudo bash .ci/setup');
    expect(r.apt).toBe('');
    expect(r.seconds).toBeLessThan(10);
  });

  it('as root: apt-get installs exactly the missing packages', async () => {
    const r = await setup({ missing: ['rsyslog-openssl', 'redis-server'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.apt.split('\n').filter(Boolean)).toEqual(['update -qq', 'install -y -qq --no-install-recommends rsyslog-openssl redis-server']);
  });

  it('--check installs nothing and lists everything missing', async () => {
    const r = await setup({ uid: 1000, missing: APT, nodeMajor: 20, moto: false }, '--check');
    expect(r.code).toBe(1);
    expect(r.apt).toBe('');
    expect(r.stderr).toContain(`missing: node>=22 ${APT.join(' ')} moto_server; install them with: sudo bash .ci/setup`);
  });

  it('a machine Node older than required: the Node 24 installed before goes first on PATH', async () => {
    const r = await setup({ nodeMajor: 20, installedNode: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`export PATH="${join(r.root, '.tmp', 'tools', 'node', 'bin')}:$PATH"`);
    // CI asks for 24: a machine on Node 22 gets it too; the quick start (22 and later) keeps the machine's.
    expect((await setup({ nodeMajor: 22, installedNode: true }, '--node-min', '24')).stdout).toContain('.tmp/tools/node/bin');
    expect((await setup({ nodeMajor: 22, installedNode: true })).stdout).toBe('');
  });

  it('no moto_server: stops, naming what provides it', async () => {
    const r = await setup({ moto: false });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("moto_server is missing: the aws-sqs tests need it (pip install 'moto[server]'");
  });

  it('pnpm test and .ci/run both go through it', () => {
    expect(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).scripts.test).toBe('bash .ci/test');
    expect(readFileSync(join(repo, '.ci', 'test'), 'utf8')).toContain('env_line="$(bash .ci/setup)" || exit 1');
    expect(readFileSync(join(repo, '.ci', 'run'), 'utf8')).toContain('env_line="$(bash .ci/setup --node-min 24)"');
  });
});
