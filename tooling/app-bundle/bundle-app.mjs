#!/usr/bin/env node
// @ts-check
// Builds the collector app in the current directory (apps/<app>) into one ES module, dist/main.js, with
// esbuild: src/main.ts, the SDK, the vendor package and their npm dependencies. A collector's start was mostly
// Node resolving, reading and compiling ~390 separate files (docs/benchmarks.md, "Issue 20: start-up from one
// bundle"); one file costs a fraction of that in CPU and resident memory.
//
//   bundle-app                                  # in apps/<app>: dist/main.js (+ dist/chunks/, source maps)
//   bundle-app --entry processing-thread=node_modules/@collector/aws-sqs/dist/processing-thread.js
//                                               # one more entry point, dist/processing-thread.js (a worker's file)
//
// What stays as it was:
// - the launch line: src/main.ts's shebang (Node flags, the allocator's environment) is the bundle's first line;
// - lazily loaded modules (ioredis, OpenTelemetry's exporters, `--check`'s code): each dynamic import() becomes
//   a chunk in dist/chunks/, loaded only when that import() runs;
// - `createRequire(import.meta.url)(X)`: X is bundled when it is a file (a package's own package.json, so
//   `--version` is the vendor package's version) and stays a run-time require() when it is a Node built-in
//   (node:http is required, not imported, to keep Node's undici unloaded);
// - stack traces: dist/*.js.map map the bundle to the TypeScript sources (run with
//   NODE_OPTIONS=--enable-source-maps to see them in traces).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { entry: { type: 'string', multiple: true, default: [] } } });
/** @type {Record<string, string>} */
const entryPoints = { main: 'src/main.ts' };
for (const spec of values.entry) {
  const [name, path] = spec.split('=');
  if (!name || !path) throw new Error(`--entry NAME=MODULE, not ${spec}`);
  entryPoints[name] = path;
}

/**
 * `createRequire(import.meta.url)('<literal>')` as a plain `require('<literal>')`, which esbuild resolves from
 * the file that holds it (in a bundle `import.meta.url` is the bundle's URL, not the original file's).
 * @type {import('esbuild').Plugin}
 */
const createRequireAsRequire = {
  name: 'create-require-as-require',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ }, ({ path }) => {
      const source = readFileSync(path, 'utf8');
      const rewritten = source.replace(/createRequire\(import\.meta\.url\)\((['"])([^'"]+)\1\)/g, (_, quote, id) => `require(${quote}${id}${quote})`);
      return rewritten === source ? undefined : { contents: rewritten, loader: 'js', resolveDir: dirname(path) };
    });
  },
};

/**
 * The config validators of the collectors this app runs, compiled now (ajv's standalone code, from the SDK's
 * `configValidatorSource`): the bundle's copy of the SDK module `precompiled-validators.js` holds them by the
 * JSON of their schema, so the collector's start compiles no schema and never loads ajv. A collector
 * definition is any export of the app's vendor packages with a `name` and an `inputs` list.
 */
async function configValidators() {
  const app = /** @type {{ dependencies?: Record<string, string> }} */ (JSON.parse(readFileSync('package.json', 'utf8')));
  const appRequire = createRequire(resolve('package.json'));
  const load = (/** @type {string} */ id) => import(pathToFileURL(appRequire.resolve(id)).href);
  const host = await load('@collector/sdk/host');
  const validators = [];
  for (const dependency of Object.keys(app.dependencies ?? {}).filter((d) => d !== '@collector/sdk')) {
    for (const value of Object.values(await load(dependency))) {
      if (typeof value?.name !== 'string' || !Array.isArray(value?.inputs)) continue;
      const schema = host.configSchema(value);
      validators.push({ collector: value.name, key: JSON.stringify(schema), source: host.configValidatorSource(schema) });
    }
  }
  return validators;
}

/** Whether esbuild bundles `file` as CommonJS: a .cjs file, or a .js file with no import or export statement. */
function isCommonJs(/** @type {string} */ file) {
  if (file.endsWith('.cjs')) return true;
  return file.endsWith('.js') && !/^\s*(import\s*[\w{*'"]|export\s)/m.test(readFileSync(file, 'utf8'));
}

/**
 * `import()` of a CommonJS module. In a split ES bundle esbuild makes its chunk `export default module.exports`
 * only (evanw/esbuild#3245), so `(await import('ioredis')).Redis` is undefined there, while Node gives the
 * module's named exports too. The import goes instead to a small ES module that re-exports every name the
 * CommonJS module exports (found by loading it here) and `default`, as Node's namespace of it has them.
 * @type {import('esbuild').Plugin}
 */
const commonJsDynamicImports = {
  name: 'commonjs-dynamic-imports',
  setup(b) {
    const NAMESPACE = 'commonjs-dynamic-import';
    b.onResolve({ filter: /./ }, async ({ path, kind, importer, resolveDir, pluginData }) => {
      if (kind !== 'dynamic-import' || pluginData === NAMESPACE) return undefined;
      const resolved = await b.resolve(path, { kind, importer, resolveDir, pluginData: NAMESPACE });
      if (resolved.errors.length > 0 || resolved.external || !isCommonJs(resolved.path)) return resolved;
      return { path: resolved.path, namespace: NAMESPACE };
    });
    b.onLoad({ filter: /./, namespace: NAMESPACE }, ({ path }) => {
      const names = Object.keys(/** @type {object} */ (createRequire(path)(path))).filter((name) => name !== 'default');
      return {
        contents: [
          `import * as cjs from ${JSON.stringify(path)};`,
          ...names.map((name, i) => `const name${i} = cjs[${JSON.stringify(name)}];\nexport { name${i} as ${JSON.stringify(name)} };`),
          'export default cjs.default;',
        ].join('\n'),
        loader: 'js',
        resolveDir: dirname(path),
      };
    });
  },
};

/**
 * Module text that defines `loadOnce(name, use, missing)`: requires dist/<name> (beside main.js, or one level above
 * the chunk that holds this code) for one `use`, then makes the module cache and the module that required it forget
 * the file, so that nothing holds its code any more; `missing()` answers when the file is not there.
 */
const LOAD_ONCE = `import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
function loadOnce(name, use, missing) {
  const file = ['./' + name, '../' + name].map((p) => fileURLToPath(new URL(p, import.meta.url))).find((f) => existsSync(f));
  if (file === undefined) return missing();
  const load = createRequire(import.meta.url);
  try {
    return use(load(file));
  } finally {
    const module = load.cache[file];
    delete load.cache[file];
    const siblings = module?.parent?.children ?? [];
    const at = siblings.indexOf(module);
    if (at >= 0) siblings.splice(at, 1);
  }
}`;

const validators = await configValidators();
const VALIDATOR = 'precompiled-config-validator';
/**
 * The validators live in dist/config-validators.cjs, a CommonJS file the bundle's copy of the SDK module
 * `precompiled-validators.js` loads when the config is validated and drops after it (as dist/yaml.cjs, below):
 * the standalone code (0.14 MB for Lark's schema) and what V8 compiled of it ran once and would stay in every
 * idle daemon from main.js. Its `get(key)` gives the validator of a schema's JSON, undefined for another.
 * @type {import('esbuild').Plugin}
 */
const precompiledValidators = {
  name: 'precompiled-config-validators',
  setup(b) {
    b.onLoad({ filter: /[\\/]sdk[\\/]dist[\\/]config[\\/]precompiled-validators\.js$/ }, () => ({
      contents: `${LOAD_ONCE}
export const precompiledValidators = {
  get(key) {
    return loadOnce('config-validators.cjs', (file) => file.validators.get(key), () => undefined);
  },
};
`,
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};

/**
 * The validators' standalone code, for dist/config-validators.cjs. It requires ajv's small run-time helpers (e.g.
 * ucs2length): resolved from the SDK.
 * @type {import('esbuild').Plugin}
 */
const validatorSources = {
  name: 'precompiled-config-validator-sources',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^${VALIDATOR}:`) }, ({ path, resolveDir }) => ({ path, namespace: VALIDATOR, pluginData: resolveDir }));
    b.onLoad({ filter: /./, namespace: VALIDATOR }, ({ path, pluginData }) => ({
      contents: validators[Number(path.slice(VALIDATOR.length + 1))]?.source,
      loader: 'js',
      resolveDir: pluginData,
    }));
  },
};

/**
 * yaml, which parses the config once at start (and again only to find the logging settings of a config that failed
 * to load), in a file of its own, dist/yaml.cjs, loaded for each parse and dropped after it: bundled into main.js,
 * its code, classes and compiled functions (~1 MiB of V8's heap, and 0.26 MB of the source V8 keeps) stayed in
 * every idle daemon (docs/benchmarks.md, "idle RSS, wave 11"). The bundle's `yaml` is this module: `parse` and a
 * `YAMLParseError` that `instanceof` recognises by the error's name (each load has its own class).
 * @type {import('esbuild').Plugin}
 */
const transientYaml = {
  name: 'transient-yaml',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: 'yaml', namespace: 'transient-yaml' }));
    b.onLoad({ filter: /./, namespace: 'transient-yaml' }, () => ({
      contents: `${LOAD_ONCE}
export function parse(...args) {
  return loadOnce('yaml.cjs', (yaml) => yaml.parse(...args), () => {
    throw new Error('dist/yaml.cjs is missing (copy the whole dist/ of the collector)');
  });
}
export const YAMLParseError = { [Symbol.hasInstance]: (error) => error instanceof Error && error.name === 'YAMLParseError' };
`,
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};

/**
 * ajv, which only compiles a config schema the build did not know (the bundle carries its validators compiled, above),
 * in a file of its own, dist/ajv.cjs, read only if that happens: in main.js its 0.26 MB of source stayed in memory
 * for good (V8 keeps a module's source while the module is loaded). The SDK's `ajv` and `ajv/dist/standalone` are
 * this module; the compiled validators' run-time helpers (`ajv/dist/runtime/...`) stay in the bundle.
 * @type {import('esbuild').Plugin}
 */
const lazyAjv = {
  name: 'lazy-ajv',
  setup(b) {
    b.onResolve({ filter: /^ajv(\/dist\/standalone)?$/ }, ({ path }) => ({ path, namespace: 'lazy-ajv' }));
    b.onLoad({ filter: /./, namespace: 'lazy-ajv' }, ({ path }) => ({
      contents: `import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
function ajv() {
  // dist/ajv.cjs: beside main.js, or one level above the chunk that holds this code.
  const file = ['./ajv.cjs', '../ajv.cjs'].map((p) => fileURLToPath(new URL(p, import.meta.url))).find((f) => existsSync(f));
  if (file === undefined) throw new Error('dist/ajv.cjs is missing (copy the whole dist/ of the collector)');
  return createRequire(import.meta.url)(file);
}
${path === 'ajv'
        ? `export class Ajv {
  constructor(...args) {
    return new (ajv().ajv.Ajv)(...args);
  }
}
export default Ajv;`
        : `export default function standaloneCode(...args) {
  return ajv().standalone.default(...args);
}`}
`,
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};

rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22.19',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [createRequireAsRequire, precompiledValidators, commonJsDynamicImports, transientYaml, lazyAjv],
  // Bundled CommonJS code calls require() for Node's built-ins; an ES module has no require of its own.
  banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module';\nconst require = __bundleCreateRequire(import.meta.url);" },
});

// esbuild writes strings, regular expressions and names in ASCII (its default charset) but keeps some comments
// as they are; one non-ASCII character in a comment makes V8 hold the whole file's source as UTF-16, twice its
// size, for as long as the process runs (+1.4 MiB of resident memory for a 1.4 MB bundle). Each UTF-16 unit
// becomes one '?', so the source maps' columns stay right.
for (const file of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'))) {
  const text = readFileSync(file, 'utf8');
  if (/[^\x00-\x7f]/.test(text)) writeFileSync(file, text.replace(/[^\x00-\x7f]/g, '?'));
}

// The build's module graph, for tooling/packaging/test/app-bundle.test.ts (a collector's start loads no lazily
// imported package): which inputs each output holds and which outputs it imports, statically or not; and the
// SHA-256 of each precompiled schema's JSON, which the test compares with the schemas the sources build.
const configSchemas = validators.map((v) => ({ collector: v.collector, sha256: createHash('sha256').update(v.key).digest('hex') }));
writeFileSync('dist/bundle-graph.json', JSON.stringify({ configSchemas, outputs: graph(result.metafile) }, null, 1));
chmodSync('dist/main.js', 0o755);
// dist/yaml.cjs (transientYaml) and dist/ajv.cjs (lazyAjv): the packages as the SDK resolves them, one CommonJS file each.
const sdkDir = dirname(createRequire(resolve('package.json')).resolve('@collector/sdk/host'));
const validatorsModule = [
  ...validators.map((_, i) => `import validate${i} from '${VALIDATOR}:${i}';`),
  `export const validators = new Map([${validators.map((v, i) => `[${JSON.stringify(v.key)}, validate${i}]`).join(', ')}]);`,
].join('\n');
for (const [file, contents] of [
  ['dist/yaml.cjs', "module.exports = require('yaml');"],
  ['dist/ajv.cjs', "module.exports = { ajv: require('ajv'), standalone: require('ajv/dist/standalone') };"],
  ['dist/config-validators.cjs', validatorsModule],
]) {
  await build({
    stdin: { contents, resolveDir: join(sdkDir, 'config'), loader: 'js' },
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22.19',
    logLevel: 'warning',
    plugins: [validatorSources],
  });
}
buildReleaseMemory();

/**
 * dist/release-memory.node (release-memory.c): glibc's malloc_trim(0), which the SDK's idle collection calls
 * once V8 has collected (13 of a daemon's 18 MiB of glibc heap were free pages after a catch-up). Compiled with
 * `$CC` (default `cc`; it needs no Node headers). Optional: without a compiler (or off Linux) the app is built
 * without it and only misses that memory back.
 */
function buildReleaseMemory() {
  const source = fileURLToPath(new URL('./release-memory.c', import.meta.url));
  const skip = (/** @type {string} */ why) => process.stderr.write(`bundle-app: dist/release-memory.node not built (${why}); the idle collector keeps glibc's freed pages\n`);
  if (process.platform !== 'linux') return skip(`not Linux: ${process.platform}`);
  try {
    execFileSync(process.env['CC'] || 'cc', ['-shared', '-fPIC', '-O2', '-Wall', source, '-o', 'dist/release-memory.node'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    return skip(`${process.env['CC'] || 'cc'}: ${/** @type {Error} */ (error).message.split('\n')[0]}`);
  }
}

/** @param {import('esbuild').Metafile} metafile */
function graph(metafile) {
  /** @type {Record<string, { inputs: string[]; imports: string[]; dynamicImports: string[] }>} */
  const outputs = {};
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (file.endsWith('.map')) continue;
    const local = output.imports.filter((i) => !i.external && !isBuiltin(i.path));
    outputs[file.replace(/^dist\//, '')] = {
      inputs: Object.keys(output.inputs),
      imports: local.filter((i) => i.kind === 'import-statement').map((i) => i.path.replace(/^dist\//, '')),
      dynamicImports: local.filter((i) => i.kind === 'dynamic-import').map((i) => i.path.replace(/^dist\//, '')),
    };
  }
  return outputs;
}
