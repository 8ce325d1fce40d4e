import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { VENDOR_NAMES, VENDORS } from '@collector/testkit';

// A collector is registered in one place, tooling/testkit/src/vendors.ts: the tooling derives its lists from
// it (and .ci/release-versions.mjs and build-images.sh from the apps/ folder, held equal to it here). What
// has to stay a static list elsewhere is held against the registry here, so a new collector that is missing
// from one of them fails with the file to edit. (The workflow matrices: workflows.test.ts, against apps/.)
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(repo, path), 'utf8');
const json = (path: string) => JSON.parse(read(path));
const sorted = (names: Iterable<string>) => [...names].sort();
const NAMES = sorted(VENDOR_NAMES);
const PACKAGES = sorted(VENDORS.map((v) => v.package));
const CHART = 'deploy/helm/devo-collectors';

describe('the collector registry (tooling/testkit/src/vendors.ts)', () => {
  it('names exactly the collectors of apps/ and packages/', () => {
    expect(sorted(readdirSync(join(repo, 'apps'))), 'apps/').toEqual(NAMES);
    expect(sorted(readdirSync(join(repo, 'packages')).filter((d) => d !== 'sdk')), 'packages/').toEqual(NAMES);
  });

  it.each(VENDORS.map((v) => [v.name, v] as const))('%s: its package, its app and the definition it exports', async (name, vendor) => {
    expect(json(`packages/${name}/package.json`).name).toBe(vendor.package);
    const app = json(`apps/${name}/package.json`);
    expect(app.name).toBe(`${vendor.package}-app`);
    expect(Object.keys(app.dependencies)).toContain(vendor.package);
    const module = (await import(vendor.package)) as Record<string, { inputs?: unknown[] }>;
    expect(module[vendor.definition]?.inputs?.length, `${vendor.package} exports ${vendor.definition}`).toBeGreaterThan(0);
    expect(existsSync(join(repo, 'tooling/docker/compose', name, 'docker-compose.yml')), `tooling/docker/compose/${name}/`).toBe(true);
  });

  it(`${CHART}: values.yaml, values.schema.json and ci/all-collectors-values.yaml have every collector, of its kind`, () => {
    const values = parseYaml(read(`${CHART}/values.yaml`)) as { collectors: Record<string, { kind: string }> };
    expect(Object.fromEntries(Object.entries(values.collectors).map(([name, c]) => [name, c.kind])), 'values.yaml').toEqual(Object.fromEntries(VENDORS.map((v) => [v.name, v.kind])));
    const schema = json(`${CHART}/values.schema.json`).properties.collectors.properties as Record<string, { $ref: string }>;
    expect(Object.fromEntries(Object.entries(schema).map(([name, s]) => [name, s.$ref])), 'values.schema.json').toEqual(Object.fromEntries(VENDORS.map((v) => [v.name, `#/definitions/${v.kind}Collector`])));
    expect(sorted(Object.keys((parseYaml(read(`${CHART}/ci/all-collectors-values.yaml`)) as { collectors: object }).collectors)), 'ci/all-collectors-values.yaml').toEqual(NAMES);
  });

  it('.changeset/config.json versions every package in the one fixed group', () => {
    const fixed = json('.changeset/config.json').fixed as string[][];
    expect(fixed).toHaveLength(1);
    expect(fixed[0]).toEqual(expect.arrayContaining(['@collector/sdk', ...PACKAGES, '@collector/*-app']));
  });

  it('tooling/demo depends on every vendor package (it loads them by name at run time)', () => {
    const demo = json('tooling/demo/package.json');
    expect(sorted(Object.keys(demo.dependencies).filter((d) => PACKAGES.includes(d))), 'tooling/demo/package.json').toEqual(PACKAGES);
  });
});
