import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarios } from '@collector/demo';
import { generatePki, startNodeSyslogReceiver, VENDOR_NAMES, type Pki, type SyslogReceiver } from '@collector/testkit';

// The five executables as operators run them (`node apps/<app>/dist/main.js`, the image's entrypoint):
// the same flags and exit codes everywhere (CONVENTIONS.md), the package version in --version and in the
// start-up line, CONFIG_FILE, --once against the simulator over TLS, and a graceful SIGTERM.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const APPS = VENDOR_NAMES;
const json = (path: string) => JSON.parse(readFileSync(join(repo, path), 'utf8'));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(app: string, args: string[], options: { cwd?: string; env?: Record<string, string>; until?: RegExp; timeoutMs?: number } = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repo, 'apps', app, 'dist', 'main.js'), ...args], {
      cwd: options.cwd ?? repo,
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (options.until && !signalled && options.until.test(stdout)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let pki: Pki;
let receiver: SyslogReceiver;
beforeAll(async () => {
  pki = await generatePki(join(mkdtempSync(join(tmpdir(), 'apps-cli-')), 'pki'));
  receiver = await startNodeSyslogReceiver(pki);
});
afterAll(async () => {
  await receiver?.close();
});

describe.each(APPS)('apps/%s', (app) => {
  const built = existsSync(join(repo, 'apps', app, 'dist', 'main.js'));
  const appPackage = json(`apps/${app}/package.json`);
  const vendorPackage = json(`packages/${app}/package.json`);
  const bin = `${app}-collector`;

  it('package: @collector/<app>-app, private, bin <app>-collector -> dist/main.js, depends on the SDK and its vendor package', () => {
    expect(appPackage).toMatchObject({ name: `@collector/${app}-app`, private: true, type: 'module', bin: { [bin]: './dist/main.js' } });
    expect(appPackage.dependencies).toEqual({ '@collector/sdk': 'workspace:*', [`@collector/${app}`]: 'workspace:*' });
    expect(built, `apps/${app}/dist/main.js (run pnpm build)`).toBe(true);
    // Node by env, with the app's launch settings if it declares any (`env -S NAME=value node --flag`, root README).
    expect(readFileSync(join(repo, 'apps', app, 'dist', 'main.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env (-S (\w+=\S+ )*)?node( --[\w-]+=\S+)*\n/);
    // Executable, so the image's entrypoint and operators run it with that line.
    expect(statSync(join(repo, 'apps', app, 'dist', 'main.js')).mode & 0o111).toBe(0o111);
  });

  it('--help names the bin and exits 0; --version prints the package version; a bad flag is exit 2', async () => {
    const help = await cli(app, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.split('\n')[0]).toBe(`Usage: ${bin} [--config PATH] [--start-at TIME] [--once | --validate | --check [--json] | --show-state]`);
    const version = await cli(app, ['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(new RegExp(` ${vendorPackage.version.replace(/\./g, '\\.')}$`));
    const bad = await cli(app, ['--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^UsageError \d+: /);
  });

  it('CONFIG_FILE, --validate, --once against the simulator over TLS, then a graceful SIGTERM', async () => {
    const scenario = scenarios.find((s) => s.vendor === app)!;
    const started = await scenario.start(0.1);
    try {
      const workDir = mkdtempSync(join(tmpdir(), `apps-cli-${app}-`));
      for (const sub of ['certs', 'config', 'state']) mkdirSync(join(workDir, sub));
      const config = {
        globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } },
        outputs: { devo_1: { type: 'devo_platform', config: { address: receiver.host, port: receiver.port, type: 'SSL', chain: pki.caCert, cert: pki.clientCert, key: pki.clientKey } } },
        inputs: started.inputs,
      };
      writeFileSync(join(workDir, 'config', 'mine.yaml'), JSON.stringify(config));
      const env = { CONFIG_FILE: 'mine.yaml' };

      const validate = await cli(app, ['--validate'], { cwd: workDir, env });
      expect(validate.code, validate.stdout + validate.stderr).toBe(0);

      const once = await cli(app, ['--once'], { cwd: workDir, env });
      expect(once.code, once.stdout.slice(-2000) + once.stderr).toBe(0);
      // On a supported Node (22+) the AWS SDK has no NodeVersionSupportWarning to print, and nothing hides one.
      expect(once.stderr).not.toContain('NodeVersionSupportWarning');
      expect(once.stdout).toMatch(new RegExp(`\\S+ ${vendorPackage.version.replace(/\./g, '\\.')} starting \\(node v\\d+`));
      const deadline = Date.now() + 10_000;
      const arrived = () => Object.keys(started.expected).map((tag) => receiver.countsByTag().get(tag) ?? 0);
      while (Date.now() < deadline && arrived().some((n, i) => n < Object.values(started.expected)[i]!)) await new Promise((r) => setTimeout(r, 100));
      expect(arrived()).toEqual(Object.values(started.expected));

      // Daemon mode: SIGTERM once it is pulling → finish, flush, save, exit 0.
      const daemon = await cli(app, [], { cwd: workDir, env, until: /Pull Started|Statistics for this pull cycle|Waiting until/ , timeoutMs: 30_000 });
      expect(daemon.stdout).toContain('Received SIGTERM');
      expect(daemon.code).toBe(0);
    } finally {
      await started.close();
    }
  }, 60_000);
});
