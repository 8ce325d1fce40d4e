import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectorDefinition } from '@collector/sdk';
import { configSchema, runCollector } from '@collector/sdk/host';
import { startDarktraceSimulator, type DarktraceSimulator } from '@collector/simulators';
import { startRedis, VENDORS, type RedisServer } from '@collector/testkit';

// Each app is built into one ES module (tooling/app-bundle/bundle-app.mjs). What a collector loads lazily must
// stay lazy in it: those packages live in chunks reached only by import(), and a pull collector on disk
// persistence never loads them. Its config validator is compiled at build time and reports what the one
// compiled at start reports. The built graph is dist/bundle-graph.json (CI builds before testing).
const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Graph {
  configSchemas: { collector: string; sha256: string }[];
  outputs: Record<string, Output>;
}

interface Output {
  inputs: string[];
  imports: string[];
  dynamicImports: string[];
}

/** Packages loaded only on demand: Redis persistence, the OpenTelemetry export, and the AWS SDK (AWS only). */
const LAZY = [/[\\/]ioredis[\\/]/, /[\\/]@opentelemetry[\\/](sdk-metrics|exporter-[^\\/]+|otlp-[^\\/]+)[\\/]/];
const AWS_SDK = /[\\/]@aws-sdk[\\/]/;

function graphOf(app: string): Graph {
  return JSON.parse(readFileSync(join(repo, 'apps', app, 'dist', 'bundle-graph.json'), 'utf8')) as Graph;
}

function run(command: string, args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The outputs a process loads by starting `entry` (its static imports, transitively). */
function staticallyLoaded(graph: Record<string, Output>, entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of graph[file]?.imports ?? []) visit(next);
  };
  visit(entry);
  return seen;
}

describe.each(VENDORS.map((v) => [v.name, v.kind] as const))('apps/%s/dist', (app, kind) => {
  it('main.js keeps the launch line of src/main.ts and is executable; lazily loaded packages are in import() chunks only', () => {
    const main = join(repo, 'apps', app, 'dist', 'main.js');
    expect(existsSync(main), `${main} (run pnpm build)`).toBe(true);
    const launchLine = readFileSync(join(repo, 'apps', app, 'src', 'main.ts'), 'utf8').split('\n', 1)[0];
    expect(readFileSync(main, 'utf8').split('\n', 1)[0]).toBe(launchLine);
    const graph = graphOf(app).outputs;
    const atStart = [...staticallyLoaded(graph, 'main.js')].flatMap((file) => graph[file]!.inputs);
    const everything = Object.values(graph).flatMap((o) => o.inputs);
    for (const lazy of LAZY) {
      expect(everything.some((input) => lazy.test(input)), `${lazy} is in the bundle at all`).toBe(true);
      expect(atStart.filter((input) => lazy.test(input)), `${lazy} at start`).toEqual([]);
    }
    if (kind === 'pull') expect(atStart.filter((input) => AWS_SDK.test(input))).toEqual([]);
    // --version is the vendor package's: its package.json is bundled, the app's is not.
    expect(atStart).toContain(`../../packages/${app}/package.json`);
    expect(atStart).not.toContain('package.json');
  });

  it('carries the config validator of the schema its collector builds, and reports the same errors with it', async () => {
    const entry = VENDORS.find((v) => v.name === app)!;
    const definition = ((await import(entry.package)) as Record<string, CollectorDefinition>)[entry.definition]!;
    const sha256 = createHash('sha256').update(JSON.stringify(configSchema(definition))).digest('hex');
    expect(graphOf(app).configSchemas).toEqual([{ collector: definition.name, sha256 }]);

    // Errors of every kind the schema checks: an enum, a type, a required key, a minimum.
    const workDir = mkdtempSync(join(tmpdir(), `app-bundle-${app}-`));
    mkdirSync(join(workDir, 'config'));
    const input = definition.inputs[0]!;
    const service = Object.keys(input.services)[0]!;
    const config = {
      globals: { persistence: { type: 'floppy' }, http_server: { enabled: false } },
      outputs: { console_1: { type: 'teletype' } },
      inputs: { [input.name]: { enabled: 'yes', services: { [service]: { request_period_in_seconds: 0 } } } },
    };
    writeFileSync(join(workDir, 'config', 'config.yaml'), JSON.stringify(config));
    const bundled = await run(process.execPath, [join(repo, 'apps', app, 'dist', 'main.js'), '--validate'], workDir);
    const logStream = new PassThrough();
    let logs = '';
    logStream.on('data', (d: Buffer) => (logs += d.toString()));
    const code = await runCollector(definition, { argv: ['--validate'], workDir, logStream, handleSignals: false });
    const errorLine = (text: string) => /ConfigError 10: .*/.exec(text)?.[0];
    expect(errorLine(logs)).toMatch(/Setting <type> must be one of .*; .*Missing required setting <id>.*Setting <enabled> must be boolean.*Setting <request_period_in_seconds> must be >= 1/);
    expect([bundled.code, errorLine(bundled.stdout + bundled.stderr)]).toEqual([code, errorLine(logs)]);
  });

  it('carries release-memory.node: malloc_trim(0) gives glibc\'s freed pages back to the system', async () => {
    // A child fills glibc's main heap with 60 KB chunks (under the 128 KiB mmap threshold), frees all but the
    // last (which pins the heap's top, as a catch-up leaves it), then calls the helper the idle collection calls.
    // V8 frees dead buffers' memory on a background thread after a full collection: the second collection, a
    // moment later, waits for the first one's frees (under load, measuring after one saw 53 of ~88 MB freed).
    const helper = join(repo, 'apps', app, 'dist', 'release-memory.node');
    expect(existsSync(helper), `${helper} (pnpm build, with a C compiler)`).toBe(true);
    const script = `
      const heapKb = () => { const s = require('node:fs').readFileSync('/proc/self/smaps', 'utf8'); const i = s.indexOf('[heap]'); return i < 0 ? 0 : Number(/Rss:\\s+(\\d+) kB/.exec(s.slice(i))[1]); };
      const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(helper)});
      let chunks = Array.from({ length: 1500 }, () => Buffer.alloc(60_000, 1));
      const pin = chunks.at(-1); chunks = null; globalThis.gc();
      setTimeout(() => {
        globalThis.gc();
        const before = heapKb(); const released = m.exports.trim(); const after = heapKb();
        console.log(JSON.stringify({ before, after, released, pin: pin.length }));
      }, 100);`;
    const child = await run(process.execPath, ['--expose-gc', '-e', script]);
    expect(child.stderr).toBe('');
    const { before, after, released } = JSON.parse(child.stdout) as { before: number; after: number; released: boolean };
    expect(released).toBe(true);
    expect(before - after).toBeGreaterThan(60 * 1024);
  });
});

describe('a pull collector run from its bundle (Darktrace, --once)', () => {
  const HOUR = 3_600_000;
  const to = Math.floor((Date.now() - HOUR) / HOUR) * HOUR;
  const dist = join(repo, 'apps', 'darktrace', 'dist');
  let sim: DarktraceSimulator;
  let redis: RedisServer;
  beforeAll(async () => {
    sim = await startDarktraceSimulator({ publicToken: 'pub-bundle-0123', privateToken: 'priv-bundle-0123', seed: 7, breaches: { from: to - 4 * HOUR, to, everyMs: 10 * 60_000 } });
    redis = await startRedis();
  });
  afterAll(async () => {
    await sim?.close();
    await redis?.stop();
  });

  /** `--once` with `persistence`; the files the process loaded, ES modules and CommonJS (a module hook). */
  async function once(persistence: Record<string, unknown>): Promise<string[]> {
    const workDir = mkdtempSync(join(tmpdir(), 'app-bundle-'));
    mkdirSync(join(workDir, 'config'));
    const config = {
      globals: { persistence, http_server: { enabled: false } },
      outputs: { console_1: { type: 'console' } },
      inputs: {
        darktrace: {
          id: 1,
          credentials: { public_token: 'pub-bundle-0123', private_token: 'priv-bundle-0123', instance: sim.url },
          services: { modelbreaches: { start_time_in_utc_format: new Date(to - 4 * HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z') } },
        },
      },
    };
    writeFileSync(join(workDir, 'config', 'config.yaml'), JSON.stringify(config));
    const recorder = `import { registerHooks } from 'node:module'; import { writeSync } from 'node:fs';
      const loaded = [];
      registerHooks({ load(url, context, next) { if (url.startsWith('file:')) loaded.push(url); return next(url, context); } });
      process.on('exit', () => {
        // Node's bundled undici (an ES import of node:http loads it; the SDK require()s node:http instead).
        if (process.moduleLoadList.some((m) => m.endsWith('internal/deps/undici/undici'))) loaded.push('node:undici');
        writeSync(2, '\\nLOADED ' + JSON.stringify(loaded) + '\\n');
      });`;
    const { code, stdout, stderr } = await run(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(recorder)}`, join(dist, 'main.js'), '--once'], workDir);
    expect(code, stdout.slice(-2000) + stderr.slice(-2000)).toBe(0);
    expect(stdout.match(/\\"pbid\\"/g)?.length).toBe(24);
    return (JSON.parse(/LOADED (.*)/.exec(stderr)![1]!) as string[]).map((url) => (url.startsWith('file:') ? fileURLToPath(url) : url));
  }

  /** The chunks holding a file of `pattern`'s package. */
  function chunksOf(pattern: RegExp): string[] {
    const chunks = Object.entries(graphOf('darktrace').outputs).filter(([, o]) => o.inputs.some((input) => pattern.test(input)));
    return chunks.map(([file]) => join(dist, file));
  }

  it('on disk persistence: loads only files of its dist/ (no undici either), and no chunk of a lazily loaded package', async () => {
    const loaded = await once({ type: 'filesystem', config: { directory_name: 'state' } });
    expect(loaded.filter((file) => !file.startsWith(dist + '/'))).toEqual([]);
    const lazyChunks = LAZY.flatMap(chunksOf);
    expect(lazyChunks.length).toBeGreaterThan(0);
    expect(loaded.filter((file) => lazyChunks.includes(file))).toEqual([]);
  });

  // ioredis is CommonJS behind import(): its chunk must give the named exports Node gives (Redis).
  it('on Redis persistence: loads the ioredis chunk and keeps its state there', async () => {
    const loaded = await once({ type: 'redis', config: { host: redis.host, port: redis.port } });
    expect(loaded.filter((file) => chunksOf(LAZY[0]!).includes(file)).length).toBeGreaterThan(0);
    expect(loaded.filter((file) => !file.startsWith(dist + '/'))).toEqual([]);
  });
});
