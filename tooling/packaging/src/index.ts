import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VENDOR_NAMES } from '@collector/testkit';

const run = promisify(execFile);

/** The publishable packages of the monorepo, by folder under packages/: the SDK and every collector of the registry. */
export const PUBLISHED_PACKAGES = ['sdk', ...VENDOR_NAMES];

/** The vendor packages take the SDK as a peer: a host installs one SDK that all of them share. */
export const SDK_PACKAGE = '@collector/sdk';

export interface PackedPackage {
  name: string;
  version: string;
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths inside the tarball, without the leading `package/`. */
  files: string[];
  /** package.json as it is inside the tarball (after `pnpm pack` replaced `workspace:` ranges). */
  manifest: Record<string, any>;
}

/**
 * `pnpm pack` of one workspace package into `destination`, as `pnpm publish` would upload it: `workspace:*`
 * becomes the exact version, `files` decides the content.
 */
export async function packPackage(packageDir: string, destination: string): Promise<PackedPackage> {
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination], { cwd: packageDir, maxBuffer: 16 * 1024 * 1024 });
  const tarball = stdout.trim().split('\n').filter(Boolean).at(-1)!.trim();
  const tgz = tarball.startsWith('/') ? tarball : join(destination, tarball);
  const { stdout: list } = await run('tar', ['-tzf', tgz], { maxBuffer: 16 * 1024 * 1024 });
  const files = list.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  const { stdout: pkg } = await run('tar', ['-xOzf', tgz, 'package/package.json'], { maxBuffer: 16 * 1024 * 1024 });
  const manifest = JSON.parse(pkg) as Record<string, any>;
  return { name: manifest['name'], version: manifest['version'], tarball: tgz, files, manifest };
}

/** Everything that would keep a packed package from working once published; empty when it is fine. */
export function publishProblems(pack: PackedPackage): string[] {
  const problems: string[] = [];
  const m = pack.manifest;
  const has = (path: string) => pack.files.includes(path.replace(/^\.\//, ''));
  if (m['private']) problems.push('"private": true');
  if (m['license'] !== 'Apache-2.0') problems.push(`license is ${JSON.stringify(m['license'])}, not Apache-2.0`);
  if (m['type'] !== 'module') problems.push('"type" is not "module"');
  if (!/^\d+\.\d+\.\d+/.test(String(m['version']))) problems.push(`version ${m['version']}`);
  if (!has('README.md')) problems.push('no README.md in the package');
  if (!Array.isArray(m['files'])) problems.push('no "files" list (everything would be published)');
  if (m['name'] !== SDK_PACKAGE && (m['dependencies']?.[SDK_PACKAGE] || !m['peerDependencies']?.[SDK_PACKAGE])) {
    problems.push(`${SDK_PACKAGE} must be a peer dependency (a dependency gives each vendor package its own SDK copy)`);
  }
  for (const section of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries<string>(m[section] ?? {})) {
      if (/^(workspace|link|file):/.test(range)) problems.push(`${section}.${dep} is ${range}`);
    }
  }
  if (!m['exports']?.['.']) problems.push('no exports["."]');
  // Every entry point (".", and subpaths such as the SDK's "./host"), not just the root.
  for (const [subpath, entry] of Object.entries<any>(m['exports'] ?? {})) {
    if (typeof entry === 'string') {
      if (!has(entry)) problems.push(`exports["${subpath}"] ${entry} is not in the package`);
      continue;
    }
    if (!entry?.types || !entry?.default) {
      problems.push(`exports["${subpath}"] needs "types" and "default"`);
      continue;
    }
    if (!has(entry.types)) problems.push(`exports["${subpath}"] types ${entry.types} is not in the package`);
    if (!has(entry.default)) problems.push(`exports["${subpath}"] default ${entry.default} is not in the package`);
    if (Object.keys(entry)[0] !== 'types') problems.push(`exports["${subpath}"]: "types" must come first`);
  }
  if (m['main'] && !has(m['main'])) problems.push(`main ${m['main']} is not in the package`);
  if (m['types'] && !has(m['types'])) problems.push(`types ${m['types']} is not in the package`);
  // src/ may ship (it is what the published source maps point at); tests, configs and dependencies may not.
  const leaked = pack.files.filter((f) => /^tests?\//.test(f) || /\.test\.[cm]?[jt]s$/.test(f) || f === 'tsconfig.json' || f.includes('node_modules/'));
  if (leaked.length) problems.push(`tests or build files published: ${leaked.slice(0, 3).join(', ')}`);
  if (pack.files.some((f) => f.endsWith('.js.map')) && !pack.files.some((f) => f.startsWith('src/'))) problems.push('source maps point at src/, which is not in "files"');
  if (!m['engines']?.['node']) problems.push('no engines.node');
  if (m['publishConfig']?.['access'] !== 'public') problems.push('no publishConfig.access "public" (a scoped package publishes as restricted)');
  if (!pack.files.some((f) => /^LICEN[CS]E/i.test(f))) problems.push('no LICENSE file in the package');
  return problems;
}

/** The version in a package folder's package.json. */
export function packageVersion(packageDir: string): string {
  return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
}
