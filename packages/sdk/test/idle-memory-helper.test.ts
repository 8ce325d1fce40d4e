import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The idle collection loads `release-memory.node` from beside the code that holds it (an app's dist/) and calls
// its `trim()`. An app directory can end up with a foreign or broken file there (copied from a build for another
// C library or Node ABI, truncated, replaced by hand): the collector must keep running without it. These tests run
// the SDK's built module from a copy of its dist/ with each kind of file beside it, in a child process, through a
// real idle collection (the event loop idle for a second).
const sdkDist = resolve(import.meta.dirname, '..', 'dist');
const work = mkdtempSync(join(tmpdir(), 'release-memory-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Node-API declarations a helper needs (as tooling/app-bundle/release-memory.c declares them). */
const NAPI = `
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct napi_env__ *napi_env; typedef struct napi_value__ *napi_value; typedef struct napi_callback_info__ *napi_callback_info;
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);
extern int napi_get_boolean(napi_env, bool, napi_value *);
extern int napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern int napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern int napi_throw_error(napi_env, const char *, const char *);
static napi_value export_trim(napi_env env, napi_value exports, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, "trim", SIZE_MAX, cb, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != 0) return NULL;
  return exports;
}
`;

/** Compiles a helper with the compiler the app build uses (`$CC` or `cc`, which CI's setup installs). */
function compile(name: string, body: string): string {
  const source = join(work, `${name}.c`);
  writeFileSync(source, NAPI + body);
  const out = join(work, `${name}.node`);
  execFileSync(process.env['CC'] || 'cc', ['-shared', '-fPIC', '-O2', source, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/**
 * Runs the idle collection with `helper` (or nothing) as dist/runtime/release-memory.node, then keeps the process
 * busy for a moment: the run's outcome is its exit code, its stderr and whatever the helper left behind.
 */
async function idleRunWith(helper: string | undefined, env: Record<string, string> = {}) {
  const dist = mkdtempSync(join(work, 'dist-'));
  cpSync(sdkDist, dist, { recursive: true });
  if (helper) copyFileSync(helper, join(dist, 'runtime', 'release-memory.node'));
  const script = `
    const { releaseIdleMemory } = await import(${JSON.stringify(join(dist, 'runtime', 'idle-memory.js'))});
    releaseIdleMemory();
    await new Promise((r) => setTimeout(r, 1600));
    releaseIdleMemory();
    await new Promise((r) => setTimeout(r, 1600));
    console.log(JSON.stringify({ alive: true, sum: Array.from({ length: 1000 }, (_, i) => i).reduce((a, b) => a + b) }));`;
  const child = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 }).then(
    (ok) => ({ ...ok, code: 0 }),
    (failed: { code: number; stdout: string; stderr: string }) => failed,
  );
  return { code: child.code, stdout: child.stdout.trim(), stderr: child.stderr.trim() };
}

const ALIVE = JSON.stringify({ alive: true, sum: 499_500 });

describe('the idle collection and its native helper (release-memory.node)', () => {
  it('calls the helper\'s trim() once per idle collection', async () => {
    const marker = join(work, 'trim-calls');
    const counting = compile('counting', `
      static napi_value Trim(napi_env env, napi_callback_info info) {
        (void)info; FILE *f = fopen(getenv("TRIM_MARKER"), "a"); if (f) { fputs("trim\\n", f); fclose(f); }
        napi_value r; napi_get_boolean(env, true, &r); return r;
      }
      __attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) { return export_trim(env, exports, Trim); }`);
    expect(await idleRunWith(counting, { TRIM_MARKER: marker })).toEqual({ code: 0, stdout: ALIVE, stderr: '' });
    expect(readFileSync(marker, 'utf8')).toBe('trim\ntrim\n');
  });

  it.concurrent.each([
    ['no helper at all', () => undefined],
    ['a file that is not a shared object', () => { const p = join(work, 'text.node'); writeFileSync(p, 'not an ELF file\n'); return p; }],
    ['an empty file', () => { const p = join(work, 'empty.node'); writeFileSync(p, ''); return p; }],
    ['a shared library that is not a Node addon', () => ['/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1', '/lib/libz.so.1'].find((p) => existsSync(p)) ?? compile('plain', 'int plain(void) { return 1; }')],
    ['an addon without trim()', () => compile('no-trim', `
      __attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) { (void)env; return exports; }`)],
    ['an addon whose trim() throws', () => compile('throwing', `
      static napi_value Trim(napi_env env, napi_callback_info info) { (void)info; napi_throw_error(env, NULL, "trim failed"); return NULL; }
      __attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) { return export_trim(env, exports, Trim); }`)],
  ])('keeps the process running with %s beside the code', async (_kind, make) => {
    expect(await idleRunWith(make())).toEqual({ code: 0, stdout: ALIVE, stderr: '' });
  });
});
