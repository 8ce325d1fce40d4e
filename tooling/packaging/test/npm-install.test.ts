import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDarktraceSimulator, startLarkSimulator, type DarktraceSimulator, type LarkSimulator } from '@collector/simulators';
import { packPackage, PUBLISHED_PACKAGES, publishProblems, type PackedPackage } from '../src/index.js';

// The packages as npm users get them: `pnpm pack` (what `pnpm publish` uploads), then `npm install` of the
// tarballs into a fresh project outside the monorepo, then the user's own code runs a collector with a
// custom output against the simulator, and type-checks against the published .d.ts files.
const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const HOUR = 3_600_000;
const utc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const packs = new Map<string, PackedPackage>();
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
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...[...packs.values()].map((p) => p.tarball)],
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
      if (folder !== 'sdk') expect(pack.manifest['dependencies']['@collector/sdk']).toBe(packs.get('sdk')!.version);
    },
  );

  it('installs into a fresh project with npm: the packages resolve through their exports map', async () => {
    const installed = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; resolved?: string }> };
    for (const pack of packs.values()) expect(installed.packages[`node_modules/${pack.name}`]?.version).toBe(pack.version);
    // One SDK for everybody: the vendor packages use the installed tarball, not a second copy from a registry.
    expect(Object.keys(installed.packages).filter((p) => p.endsWith('node_modules/@collector/sdk'))).toEqual(['node_modules/@collector/sdk']);
    const { stdout } = await run('node', ['--input-type=module', '-e', `const m = await import('@collector/sdk'); console.log(typeof m.CollectorRuntime, typeof m.runCollector)`], { cwd: project });
    expect(stdout.trim()).toBe('function function');
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
import { CollectorRuntime } from '@collector/sdk';
import { larkCollector } from '@collector/lark';
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
      expect(result.lark).toEqual({ ok: true, errors: [], count: 250, unique: 250, tags: ['app.lark.audit.event'] });
      expect(result.darktrace).toEqual({ ok: true, errors: [], count: expectedBreaches, unique: expectedBreaches, tags: ['edr.darktrace.respond.model_breach'] });
      expect(expectedBreaches).toBeGreaterThan(20);
    }, 90_000);

    it('type-checks a TypeScript host against the published declarations (NodeNext, strict)', async () => {
      writeFileSync(
        join(project, 'host.ts'),
        `import { CollectorRuntime, type DeliveryRecord, type Output, type RunSummary } from '@collector/sdk';
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
