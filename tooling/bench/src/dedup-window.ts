/**
 * The dedup window alone (issue 20): heap bytes per key of a service's two windows, the time to serialise
 * a 50,000-key window into a state as the filesystem store does, and the time of the runner's has/add
 * pattern. With `--baseline <dir of a built copy>` the same figures for that copy's SDK, alternated in
 * one run. Each figure comes from its own child process (`--expose-gc`), so one window's garbage never
 * counts in another's heap.
 *
 *   node tooling/bench/dist/dedup-window.js [--baseline /tmp/dedup6-base] [--keys 50000]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliMistake, parseCli } from '@collector/testkit/cli';

/** Key shapes the vendors produce: Darktrace's pbid, Lark's unique_id, Proofpoint's digest, a GUID, a hex SHA-256. */
const KINDS: Record<string, (i: number) => string> = {
  numeric: (i) => String(100_000_000 + i),
  lark: (i) => `7e1c${String(i).padStart(12, '0')}`,
  proofpoint: (i) => `.${(Math.imul(i, 2654435761) >>> 0).toString(36).padStart(15, 'q')}`,
  guid: (i) => `${(Math.imul(i, 7919) >>> 0).toString(16).padStart(8, '0')}-1c2d-4e5f-8a9b-${(i * 104729).toString(16).padStart(12, '0')}`,
  sha256: (i) => (Math.imul(i, 2654435761) >>> 0).toString(16).padStart(64, 'a'),
};

interface SdkUnderTest {
  DedupWindow: new (capacity: number, initial?: Iterable<string>) => {
    has(key: string): boolean;
    add(key: string): void;
    toJSON(): string[];
    toState?(): unknown;
  };
  redact(text: string): string;
}

/** Keeps the measured windows alive until the end: an object no later statement uses may be collected before `used()` reads the heap. */
const held: unknown[] = [];

interface Figures {
  bytesPerKey: number;
  saveMs: number;
  stateBytes: number;
  hasAddNsPerKey: number;
}

/**
 * A new flat string per key, as `String(id)` gives one (not the cons string a template builds, nor an
 * internalised string `JSON.parse` may share between equal values: the windows' keys must count in the heap).
 */
function flat(text: string): string {
  return text.split('').join('');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(sdkDist: string, kind: string, keys: number): Promise<Figures> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const sdk = (await import(pathToFileURL(join(sdkDist, 'host.js')).href)) as SdkUnderTest;
  const make = KINDS[kind]!;
  const through = Array.from({ length: Math.round(keys * 1.5) }, (_, i) => flat(make(i)));
  const used = async () => {
    await new Promise((resolve) => setTimeout(resolve, 200)); // array buffers of the garbage are freed after a collection
    gc();
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  // Warm the code up on a small window first.
  const warm = new sdk.DedupWindow(1000);
  for (const key of through.slice(0, 5000)) if (!warm.has(key)) warm.add(key);
  const before = await used();
  // The runner's two windows (submitted and acknowledged keys) share the key strings; 1.5× the capacity
  // goes through, so both are full and have evicted, as in a long run. Only the windows stay referenced.
  const submitted = new sdk.DedupWindow(keys);
  const acknowledged = new sdk.DedupWindow(keys);
  for (let i = 0; i < through.length; i++) {
    const key = flat(make(i));
    if (!submitted.has(key)) {
      submitted.add(key);
      acknowledged.add(key);
    }
  }
  const bytesPerKey = ((await used()) - before) / keys;
  held.push(submitted, acknowledged);

  const saves: number[] = [];
  let stateBytes = 0;
  for (let run = 0; run < 15; run++) {
    const started = performance.now();
    const dedup = acknowledged.toState ? acknowledged.toState() : acknowledged.toJSON();
    const state = { version: 1, reset: null, checkpoint: { end: '2026-12-06T16:00:00Z' }, dedup, extra: {}, updated_at: new Date().toISOString() };
    const text = sdk.redact(JSON.stringify(state, null, 1)); // what FilesystemStateStore.save writes
    saves.push(performance.now() - started);
    stateBytes = Buffer.byteLength(text);
  }

  const rounds: number[] = [];
  for (let run = 0; run < 5; run++) {
    const a = new sdk.DedupWindow(keys);
    const b = new sdk.DedupWindow(keys);
    const started = performance.now();
    for (const key of through) {
      if (!a.has(key)) {
        a.add(key);
        b.add(key);
      }
    }
    rounds.push(((performance.now() - started) * 1e6) / through.length);
  }
  return { bytesPerKey, saveMs: median(saves), stateBytes, hasAddNsPerKey: median(rounds) };
}

async function main(): Promise<void> {
  const values = parseCli('node tooling/bench/dist/dedup-window.js', 'The dedup window alone: heap bytes per key of a service\'s two windows, the time to serialise a window into a state, and the runner\'s has/add pattern, per key shape; each figure from its own child process.', {
    baseline: { type: 'string', help: 'the root of a built copy whose SDK is measured too, alternated in one run' },
    keys: { type: 'string', default: '50000', help: 'keys per window' },
    child: { type: 'string', help: 'internal: measure the SDK built in this dist directory and print its figures (what each child process runs)' },
    kind: { type: 'string', help: `internal, with --child: the key shape (${Object.keys(KINDS).join(', ')})` },
  });
  if (values.child && (values.kind === undefined || !(values.kind in KINDS))) cliMistake('node tooling/bench/dist/dedup-window.js', `--child needs --kind, one of ${Object.keys(KINDS).join(', ')}`);
  const keys = Number(values.keys);
  if (values.child) {
    process.stdout.write(JSON.stringify(await measure(values.child, values.kind!, keys)));
    return;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const builds: [string, string][] = [['this build', resolve(here, '../../../packages/sdk/dist')]];
  if (values.baseline) {
    const base = resolve(values.baseline, 'packages/sdk/dist');
    if (!existsSync(join(base, 'host.js'))) throw new Error(`No built SDK at ${base}: build the baseline copy first`);
    builds.unshift(['baseline', base]);
  }
  console.log(`Two ${keys}-key windows per service; median of 15 saves, 5 has/add rounds (${Math.round(keys * 1.5)} keys each).`);
  console.log('| keys | build | heap bytes / key (both windows) | save ms (serialise, no I/O) | state KiB | has+add ns / key |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const kind of Object.keys(KINDS)) {
    for (const [name, dist] of builds) {
      const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', dist, '--kind', kind, '--keys', String(keys)], { encoding: 'utf8' });
      const f = JSON.parse(out) as Figures;
      console.log(`| ${kind} (${KINDS[kind]!(7).length} chars) | ${name} | ${f.bytesPerKey.toFixed(1)} | ${f.saveMs.toFixed(2)} | ${(f.stateBytes / 1024).toFixed(0)} | ${f.hasAddNsPerKey.toFixed(0)} |`);
    }
  }
}

await main();
