#!/usr/bin/env node
// One version for everything a release publishes: @collector/sdk, the five vendor packages, the five apps
// (their version tags the images) and the Helm chart (version and appVersion). The changesets config keeps
// the packages and apps in one fixed group; this script does the rest.
//
//   node .ci/release-versions.mjs --sync          after `changeset version`: the chart and the vendor packages' SDK peer range take the packages' version
//   node .ci/release-versions.mjs 1.2.3           exit 1 unless everything is at 1.2.3 (release.yml, on the tag)
//   node .ci/release-versions.mjs 1.2.3 --notes   the CHANGELOG.md entries for 1.2.3, as release notes
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
// Every app under apps/ (tooling/repo-checks/test/vendors.test.ts holds that folder equal to the registry).
const VENDORS = readdirSync(join(repo, 'apps')).sort();
const PACKAGES = ['packages/sdk', ...VENDORS.map((v) => `packages/${v}`)];
const APPS = VENDORS.map((v) => `apps/${v}`);
const CHART = 'deploy/helm/devo-collectors/Chart.yaml';

const read = (path) => readFileSync(join(repo, path), 'utf8');
const versionOf = (dir) => JSON.parse(read(`${dir}/package.json`)).version;
const chartField = (text, key) => new RegExp(`^${key}:\\s*"?([^"\\s]+)"?`, 'm').exec(text)?.[1];

const [arg, flag] = process.argv.slice(2);
if (arg === '--sync') {
  const version = versionOf('packages/sdk');
  const chart = read(CHART).replace(/^version:.*$/m, `version: ${version}`).replace(/^appVersion:.*$/m, `appVersion: "${version}"`);
  writeFileSync(join(repo, CHART), chart);
  console.log(`${CHART}: version and appVersion ${version}`);
  // The vendor packages' SDK peer range starts at the released SDK (a vendor may use what it added) and
  // spans the major, so that changesets does not turn the next minor release into a major one.
  const range = `workspace:>=${version} <${Number(version.split('.')[0]) + 1}.0.0`;
  for (const dir of VENDORS.map((v) => `packages/${v}`)) {
    const pkg = JSON.parse(read(`${dir}/package.json`));
    pkg.peerDependencies['@collector/sdk'] = range;
    writeFileSync(join(repo, dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  }
  console.log(`vendor packages: peer @collector/sdk ${range.slice('workspace:'.length)}`);
} else if (arg && !arg.startsWith('-')) {
  const chart = read(CHART);
  const found = [...PACKAGES, ...APPS].map((dir) => [dir, versionOf(dir)]);
  found.push([`${CHART} version`, chartField(chart, 'version')], [`${CHART} appVersion`, chartField(chart, 'appVersion')]);
  const wrong = found.filter(([, v]) => v !== arg);
  if (wrong.length) {
    console.error(`the tag says ${arg}, but:\n${wrong.map(([what, v]) => `  ${what}: ${v}`).join('\n')}`);
    process.exit(1);
  }
  if (flag === '--notes') {
    for (const dir of PACKAGES) {
      const { name } = JSON.parse(read(`${dir}/package.json`));
      const log = read(`${dir}/CHANGELOG.md`);
      const start = log.search(new RegExp(`^## ${arg.replace(/\./g, '\\.')}\\b`, 'm'));
      if (start < 0) continue;
      const rest = log.slice(start).split('\n');
      const end = rest.findIndex((line, i) => i > 0 && line.startsWith('## '));
      console.log(`# ${name}\n${rest.slice(1, end < 0 ? undefined : end).join('\n').trim()}\n`);
    }
  } else {
    console.log(`everything is at ${arg}: ${found.map(([what]) => what).join(', ')}`);
  }
} else {
  console.error('usage: release-versions.mjs --sync | <version> [--notes]');
  process.exit(2);
}
