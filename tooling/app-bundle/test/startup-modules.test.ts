import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// yaml parses the config at start only: each app carries it as dist/yaml.cjs, loaded for a parse and dropped
// after it, not inside main.js, whose code stays loaded as long as the daemon runs (bundle-app.mjs,
// transientYaml); the config validators compiled at build time likewise, as dist/config-validators.cjs; ajv,
// needed only for a schema the build did not know, as dist/ajv.cjs (lazyAjv). The apps are built before the tests (CI builds first), as tooling/packaging's tests expect.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const PULL_APPS = ['lark', 'darktrace', 'o365-emt', 'proofpoint-tap'];
/** A message of yaml's parser, so a text that holds it holds the parser. */
const YAML_PARSER_TEXT = '%TAG directive should contain exactly two parts';
/** One of ajv's (its compiler, which a bundle needs only for a schema the build did not know). */
const AJV_TEXT = 'schema with key or id';

describe('yaml and ajv in files of their own beside the bundle', () => {
  it.each(PULL_APPS)('%s: dist/yaml.cjs holds the parser, dist/ajv.cjs the schema compiler, dist/config-validators.cjs the validators; dist/main.js none', (app) => {
    const dist = join(repo, 'apps', app, 'dist');
    expect(readFileSync(join(dist, 'yaml.cjs'), 'utf8')).toContain(YAML_PARSER_TEXT);
    expect(readFileSync(join(dist, 'ajv.cjs'), 'utf8')).toContain(AJV_TEXT);
    const main = readFileSync(join(dist, 'main.js'), 'utf8');
    expect(main).not.toContain(YAML_PARSER_TEXT);
    expect(main).not.toContain(AJV_TEXT);
    // The config validators compiled at build time, by the JSON of their schema: in the file, not in main.js.
    const { configSchemas } = JSON.parse(readFileSync(join(dist, 'bundle-graph.json'), 'utf8')) as { configSchemas: unknown[] };
    expect(configSchemas.length).toBeGreaterThan(0);
    expect(readFileSync(join(dist, 'config-validators.cjs'), 'utf8')).toContain('function validate');
    expect(main).not.toMatch(/function validate\d+\(/);
  });

  it("dist/ajv.cjs compiles a schema and its standalone code as the SDK's fallback asks", () => {
    const { ajv, standalone } = createRequire(import.meta.url)(join(repo, 'apps', 'lark', 'dist', 'ajv.cjs')) as {
      ajv: { Ajv: new (options: object) => { compile(schema: object): ((data: unknown) => boolean) & object } };
      standalone: { default: (ajv: object, validate: object) => string };
    };
    const compiler = new ajv.Ajv({ strict: false, code: { source: true, esm: true } });
    const validate = compiler.compile({ type: 'object', properties: { name: { type: 'string' } } });
    expect([validate({ name: 'x' }), validate({ name: 5 })]).toEqual([true, false]);
    expect(standalone.default(compiler, validate)).toContain('export default');
  });

  it("parses and validates a config through them, and reports a YAML error's line and column and a setting's error as before", () => {
    const workDir = mkdtempSync(join(tmpdir(), 'transient-yaml-'));
    mkdirSync(join(workDir, 'config'));
    const validate = (text: string) => {
      writeFileSync(join(workDir, 'config', 'config.yaml'), text);
      return spawnSync(process.execPath, [join(repo, 'apps', 'lark', 'dist', 'main.js'), '--validate'], { cwd: workDir, encoding: 'utf8' });
    };
    const broken = validate('globals:\n  name: x\n  list: [1, 2\n');
    expect(broken.status).toBe(2);
    expect(broken.stdout + broken.stderr).toMatch(/ConfigError 2: The config file .* is not valid YAML at line \d+, column \d+: Flow sequence/);
    // Parsed, then validated by the precompiled validator: a setting of the wrong type.
    const invalid = validate('globals:\n  name: 5\ninputs: {}\noutputs: {}\n');
    expect(invalid.status).toBe(2);
    expect(invalid.stdout + invalid.stderr).toMatch(/ConfigError 10: Setting <name> must be string \(globals\.name\)/);
    // Valid: what fails now is the config's content, found after the validation.
    const parsed = validate('globals:\n  name: x\ninputs: {}\n');
    expect(parsed.stdout + parsed.stderr).toMatch(/ConfigError 13: No output/);
    expect(existsSync(join(repo, 'apps', 'lark', 'dist', 'yaml.cjs'))).toBe(true);
  });
});
