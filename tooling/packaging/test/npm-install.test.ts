import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDarktraceSimulator, startLarkSimulator, type DarktraceSimulator, type LarkSimulator } from '@collector/simulators';
import { packPackage, PUBLISHED_PACKAGES, publishProblems, type PackedPackage } from '../src/index.js';

// The packages as npm users get them: `pnpm pack` (what `pnpm publish` uploads), then `npm install` of the
// SDK and TWO vendor packages into a fresh project outside the monorepo, then the user's own code runs both
// collectors with a custom output against the simulators, shows that both vendor packages share the one SDK
// the host imports (error classes, secret registry), and type-checks against the published .d.ts files.
const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const HOUR = 3_600_000;
const utc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** What the host sees when both vendor packages share its SDK (see host.mjs). */
const ONE_SDK = {
  lark: { line: expect.stringMatching(/^SetupError 100: /), collectorError: true, setupError: true },
  darktrace: { line: expect.stringMatching(/^InitVariablesError 22: /), collectorError: true },
  tokenMasked: true,
};

const packs = new Map<string, PackedPackage>();
/** What the host project installs: the SDK and the two vendor packages it runs. */
const INSTALLED = ['sdk', 'lark', 'darktrace'] as const;
let project: string;

async function ensureBuilt(folder: string): Promise<void> {
  if (existsSync(join(repo, 'packages', folder, 'dist', 'index.js'))) return;
  await run('pnpm', ['--filter', `./packages/${folder}...`, 'run', 'build'], { cwd: repo });
}

beforeAll(async () => {
  const destination = mkdtempSync(join(tmpdir(), 'collector-packs-'));
  for (const folder of PUBLISHED_PACKAGES) {
    await ensureBuilt(folder);
    packs.set(folder, await packPackage(join(repo, 'packages', folder), destination));
  }
  // A user's fresh project: only the tarballs, everything else from the npm registry (cache first).
  project = mkdtempSync(join(tmpdir(), 'collector-user-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-devo-host', private: true, type: 'module' }, null, 2));
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...INSTALLED.map((folder) => packs.get(folder)!.tarball)],
    { cwd: project, maxBuffer: 32 * 1024 * 1024, timeout: 240_000 },
  );
}, 300_000);

describe('npm packages', () => {
  it.each(PUBLISHED_PACKAGES)(
    '@collector/%s packs into a publishable tarball (exports, types, files, LICENSE, README, engines, public access, no workspace: ranges)',
    (folder) => {
      const pack = packs.get(folder)!;
      expect(pack.name).toBe(`@collector/${folder}`);
      expect(publishProblems(pack)).toEqual([]);
      // A peer, never a dependency: a host installing two vendor packages gets one SDK (or npm's refusal).
      if (folder !== 'sdk') {
        const sdk = packs.get('sdk')!.version;
        expect(pack.manifest['peerDependencies']).toEqual({ '@collector/sdk': `>=${sdk} <${Number(sdk.split('.')[0]) + 1}.0.0` });
        expect(pack.manifest['dependencies']?.['@collector/sdk']).toBeUndefined();
      } else {
        expect(Object.keys(pack.manifest['exports'])).toEqual(['.', './host', './package.json']);
      }
    },
  );

  it('installs into a fresh project with npm: the packages resolve through their exports map', async () => {
    const installed = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; resolved?: string }> };
    for (const folder of INSTALLED) expect(installed.packages[`node_modules/${packs.get(folder)!.name}`]?.version).toBe(packs.get(folder)!.version);
    // One SDK for everybody: the vendor packages use the installed tarball, not a second copy from a registry.
    expect(Object.keys(installed.packages).filter((p) => p.endsWith('node_modules/@collector/sdk'))).toEqual(['node_modules/@collector/sdk']);
    // The host API is the subpath; the vendor entry point does not carry it.
    const { stdout } = await run(
      'node',
      ['--input-type=module', '-e', `const h = await import('@collector/sdk/host'); const v = await import('@collector/sdk'); console.log(typeof h.CollectorRuntime, typeof h.runCollector, typeof v.CollectorRuntime, typeof v.defineCollector)`],
      { cwd: project },
    );
    expect(stdout.trim()).toBe('function function undefined function');
  });

  it('the instanceof check sees a second SDK copy (what a pinned dependency of a vendor package would give)', async () => {
    const probe = `import { CollectorError } from '@collector/sdk';
import { darktraceCollector } from '@collector/darktrace';
const e = await darktraceCollector.inputs[0].setup({ credentials: {}, log: { info() {} } }).catch((x) => x);
console.log(e.constructor.name, e instanceof CollectorError);`;
    const shared = await run('node', ['--input-type=module', '-e', probe], { cwd: project });
    const nested = join(project, 'node_modules', '@collector', 'darktrace', 'node_modules', '@collector', 'sdk');
    cpSync(join(project, 'node_modules', '@collector', 'sdk'), nested, { recursive: true });
    try {
      const copied = await run('node', ['--input-type=module', '-e', probe], { cwd: project });
      expect([shared.stdout.trim(), copied.stdout.trim()]).toEqual(['InitVariablesError true', 'InitVariablesError false']);
    } finally {
      rmSync(join(project, 'node_modules', '@collector', 'darktrace', 'node_modules'), { recursive: true, force: true });
    }
  });

  describe('a user host runs collectors programmatically with its own output', () => {
    let lark: LarkSimulator;
    let darktrace: DarktraceSimulator;
    afterAll(async () => {
      await lark?.close();
      await darktrace?.close();
    });

    it('pulls every simulator event and hands each to the custom output once', async () => {
      const now = Date.now();
      lark = await startLarkSimulator({ appId: 'cli_pack0000000001', appSecret: 'pack-lark-secret', seed: 7, generate: { count: 250, from: new Date(now - 3 * HOUR), to: new Date(now - 5 * 60_000) } });
      const start = Math.floor(now / HOUR) * HOUR - 6 * HOUR;
      darktrace = await startDarktraceSimulator({ seed: 7, breaches: { from: start, to: now - 10 * 60_000, everyMs: 10 * 60_000 } });
      const expectedBreaches = darktrace.breachesBetween(start, now).length;
      const configs = {
        lark: {
          globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } },
          inputs: { lark: { id: 1, credentials: { app_id: 'cli_pack0000000001', app_secret: 'pack-lark-secret' }, services: { audit_infos: { override_base_url: lark.url, initial_start_time_in_utc_value: utc(now - 4 * HOUR) } } } },
        },
        darktrace: {
          globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } },
          inputs: { darktrace: { id: 1, credentials: { public_token: darktrace.publicToken, private_token: darktrace.privateToken, instance: darktrace.url }, services: { modelbreaches: { start_time_in_utc_format: utc(start) } } } },
        },
      };
      // The user's code, verbatim as it would sit in their project (plain ESM, no build step).
      writeFileSync(
        join(project, 'host.mjs'),
        `import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CollectorError, HttpClient, SetupError } from '@collector/sdk';
import { CollectorRuntime, redact, silentLogger } from '@collector/sdk/host';
import { LarkClient, larkCollector } from '@collector/lark';
import { darktraceCollector } from '@collector/darktrace';

/** My own output: keeps what it is given (a real host would write to its queue or SIEM). */
class ArrayOutput {
  type = 'array';
  name = 'mine';
  records = [];
  async start() {}
  async write(records) { this.records.push(...records); }
  ready() { return true; }
  async stop() {}
}

const configs = JSON.parse(process.env.HOST_CONFIGS);
const result = {};

// One SDK: what each vendor package throws is an instance of the classes this host imports, and a secret
// registered by vendor code (Lark's tenant token) is masked by this host's redact. Before any run, so
// nothing but the vendor code registered the token.
const larkInput = configs.lark.inputs.lark;
const baseUrl = larkInput.services.audit_infos.override_base_url;
const answers = [];
class RecordingHttp extends HttpClient {
  async request(req) { const res = await super.request(req); answers.push(res.text); return res; }
}
await new LarkClient({ baseUrl, appId: larkInput.credentials.app_id, appSecret: larkInput.credentials.app_secret, http: new RecordingHttp(), log: silentLogger }).ensureToken();
const token = JSON.parse(answers[0]).tenant_access_token;
const failure = (promise) => promise.then(() => undefined, (e) => e);
const larkError = await failure(new LarkClient({ baseUrl, appId: larkInput.credentials.app_id, appSecret: 'not-the-secret', http: new HttpClient(), log: silentLogger }).ensureToken());
const darktraceError = await failure(darktraceCollector.inputs[0].setup({ credentials: {}, log: silentLogger }));
result.oneSdk = {
  lark: { line: larkError?.toLine(), collectorError: larkError instanceof CollectorError, setupError: larkError instanceof SetupError },
  darktrace: { line: darktraceError?.toLine(), collectorError: darktraceError instanceof CollectorError },
  tokenMasked: typeof token === 'string' && token.length > 0 && !redact('token ' + token).includes(token),
};

for (const [name, definition] of [['lark', larkCollector], ['darktrace', darktraceCollector]]) {
  const output = new ArrayOutput();
  const quiet = new Writable({ write(_c, _e, cb) { cb(); } });
  const runtime = new CollectorRuntime(definition, { workDir: mkdtempSync(join(tmpdir(), name + '-')), config: configs[name], outputs: [output], logStream: quiet });
  const summary = await runtime.runOnce();
  const ids = output.records.map((r) => { const e = JSON.parse(r.message); return String(e.unique_id ?? e.pbid); });
  result[name] = { ok: summary.ok, errors: summary.errors, count: output.records.length, unique: new Set(ids).size, tags: [...new Set(output.records.map((r) => r.tag))] };
}
process.stdout.write(JSON.stringify(result));
`,
      );
      const { stdout } = await run('node', ['host.mjs'], { cwd: project, env: { ...process.env, HOST_CONFIGS: JSON.stringify(configs) }, timeout: 60_000 });
      const result = JSON.parse(stdout);
      expect(result.oneSdk).toEqual(ONE_SDK);
      expect(result.lark).toEqual({ ok: true, errors: [], count: 250, unique: 250, tags: ['app.lark.audit.event'] });
      expect(result.darktrace).toEqual({ ok: true, errors: [], count: expectedBreaches, unique: expectedBreaches, tags: ['edr.darktrace.respond.model_breach'] });
      expect(expectedBreaches).toBeGreaterThan(20);
    }, 90_000);

    it('type-checks a TypeScript host against the published declarations (NodeNext, strict)', async () => {
      writeFileSync(
        join(project, 'host.ts'),
        `import { CollectorRuntime, type DeliveryRecord, type Output, type RunSummary } from '@collector/sdk/host';
import { larkCollector } from '@collector/lark';
class MyOutput implements Output {
  readonly type = 'mine';
  readonly name = 'mine';
  readonly records: DeliveryRecord[] = [];
  async start(): Promise<void> {}
  async write(records: readonly DeliveryRecord[]): Promise<void> { this.records.push(...records); }
  ready(): boolean { return true; }
  async stop(): Promise<void> {}
}
export async function once(config: unknown): Promise<RunSummary> {
  return new CollectorRuntime(larkCollector, { config, outputs: [new MyOutput()] }).runOnce();
}
`,
      );
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(repo, 'node_modules', '@types')] },
          files: ['host.ts'],
        }),
      );
      const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
      const outcome = await run('node', [tsc, '-p', 'tsconfig.json'], { cwd: project }).then(() => 'ok', (e: { stdout: string }) => e.stdout);
      expect(outcome).toBe('ok');
    }, 60_000);
  });
});
