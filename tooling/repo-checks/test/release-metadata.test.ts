import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { VENDOR_NAMES, VENDORS } from '@collector/testkit';

// What a release needs from every package.json (npm provenance checks `repository` against the GitHub
// repository that built it), the CHANGELOGs, and the one version shared by packages, apps and chart.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);
const manifests = (await run('git', ['ls-files', '*package.json', 'package.json'], { cwd: repo })).stdout.trim().split('\n');
const pkgs = manifests.map((file) => ({ dir: file.replace(/\/?package\.json$/, ''), json: JSON.parse(readFileSync(join(repo, file), 'utf8')) }));
const published = pkgs.filter((p) => !p.json.private && p.dir !== '');
const URL_ = 'git+https://github.com/devo-collectors/devo-collectors.git';

describe('release metadata', () => {
  it('every package.json names the repository and its own directory in it', () => {
    for (const { dir, json } of pkgs) {
      expect(json.repository, dir || 'root').toEqual(dir ? { type: 'git', url: URL_, directory: dir } : { type: 'git', url: URL_ });
    }
  });

  it('the published packages: public, Node >= 22, a CHANGELOG.md in the tarball with an entry for their version', () => {
    expect(published.map((p) => p.json.name).sort()).toEqual(['@collector/sdk', ...VENDORS.map((v) => v.package)].sort());
    for (const { dir, json } of published) {
      expect(json.publishConfig, dir).toEqual({ access: 'public' });
      expect(json.engines.node, dir).toBe('>=22.19');
      expect(json.files, dir).toContain('CHANGELOG.md');
      expect(json.homepage).toBe(`https://github.com/devo-collectors/devo-collectors/tree/main/${dir}#readme`);
      const changelog = readFileSync(join(repo, dir, 'CHANGELOG.md'), 'utf8');
      expect(changelog.startsWith(`# ${json.name}\n`), dir).toBe(true);
      expect(changelog, dir).toMatch(new RegExp(`^## ${json.version.replace(/\./g, '\\.')}$`, 'm'));
    }
  });

  it('changesets versions the published packages and the apps as one fixed group', () => {
    const config = JSON.parse(readFileSync(join(repo, '.changeset', 'config.json'), 'utf8'));
    const [group] = config.fixed as string[][];
    const names = new Set(pkgs.map((p) => p.json.name as string));
    for (const { json } of published) expect(group).toContain(json.name);
    for (const name of group!) if (!name.includes('*')) expect(names.has(name), name).toBe(true);
    expect(pkgs.filter((p) => p.dir.startsWith('apps/')).every((p) => /^@collector\/.+-app$/.test(p.json.name))).toBe(true);
    expect(config.privatePackages).toEqual({ version: true, tag: false });
  });

  it('.ci/release-versions.mjs: passes at the current version, names every mismatch otherwise, prints the notes', async () => {
    const version = pkgs.find((p) => p.dir === 'packages/sdk')!.json.version as string;
    const chart = parseYaml(readFileSync(join(repo, 'deploy/helm/devo-collectors/Chart.yaml'), 'utf8'));
    expect([chart.version, chart.appVersion]).toEqual([version, version]);
    const ok = await run('node', ['.ci/release-versions.mjs', version], { cwd: repo });
    expect(ok.stdout).toContain(`everything is at ${version}`);
    const bad = await run('node', ['.ci/release-versions.mjs', '9.9.9'], { cwd: repo }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toContain('packages/sdk: ' + version);
    expect(bad?.stderr).toContain('apps/aws-sqs: ' + version);
    expect(bad?.stderr).toContain('Chart.yaml appVersion: ' + version);
    const notes = await run('node', ['.ci/release-versions.mjs', version, '--notes'], { cwd: repo });
    for (const { json } of published) expect(notes.stdout).toContain(`# ${json.name}\n`);
  });

  it('Compose files and the chart default to the published images', () => {
    const values = parseYaml(readFileSync(join(repo, 'deploy/helm/devo-collectors/values.yaml'), 'utf8'));
    expect(values.image).toMatchObject({ registry: 'ghcr.io', repository: 'devo-collectors/devo-collector', tag: '' });
    for (const app of VENDOR_NAMES) {
      const compose = readFileSync(join(repo, 'tooling/docker/compose', app, 'docker-compose.yml'), 'utf8');
      expect(compose).toContain(`image: \${IMAGE:-ghcr.io/devo-collectors/devo-collector-${app}}:`);
      expect(existsSync(join(repo, 'apps', app, 'package.json'))).toBe(true);
    }
  });

  it('pnpm version-packages: a changeset moves every package, app and the chart to one new version, with the CHANGELOG line', async () => {
    // In a clone of the committed tree (the working tree is left alone), with this checkout's node_modules.
    const clone = mkdtempSync(join(tmpdir(), 'version-packages-'));
    try {
      await run('git', ['clone', '--quiet', repo, clone]);
      symlinkSync(join(repo, 'node_modules'), join(clone, 'node_modules'));
      writeFileSync(join(clone, '.changeset', 'lark-change.md'), '---\n"@collector/lark": minor\n---\n\nLark: a change worth a minor version.\n');
      const version = JSON.parse(readFileSync(join(clone, 'packages/lark/package.json'), 'utf8')).version as string;
      const [major, minor] = version.split('.').map(Number);
      const next = `${major}.${minor! + 1}.0`;
      await run(process.execPath, [join(repo, 'node_modules/@changesets/cli/bin.js'), 'version'], { cwd: clone });
      await run(process.execPath, ['.ci/release-versions.mjs', '--sync'], { cwd: clone });
      const ok = await run(process.execPath, ['.ci/release-versions.mjs', next], { cwd: clone });
      expect(ok.stdout).toContain(`everything is at ${next}`);
      expect(readFileSync(join(clone, 'packages/lark/CHANGELOG.md'), 'utf8')).toMatch(new RegExp(`## ${next.replace(/\./g, '\\.')}\\s+### Minor Changes\\s+- Lark: a change worth a minor version\\.`));
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  }, 120_000);
});
