import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is tooling/testkit/{src,dist}/built-app.*). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The executable of a collector app, as the image and the packages run it. */
export function appMain(app: string): string {
  return join(REPO_ROOT, 'apps', app, 'dist', 'main.js');
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Builds each project (e.g. `packages/sdk`, `packages/lark`, `apps/lark`, in dependency order) unless its
 * dist/ is newer than every source file: tests that run a collector as a child process need the built code,
 * and `vitest run <file>` alone does not build.
 */
export function ensureBuilt(projects: readonly string[]): void {
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  for (const project of projects) {
    const dist = join(REPO_ROOT, project, 'dist');
    if (existsSync(dist) && newest(dist) >= newest(join(REPO_ROOT, project, 'src'))) continue;
    execFileSync(process.execPath, [tsc, '-p', join(REPO_ROOT, project, 'tsconfig.json')], { stdio: 'pipe' });
  }
}
