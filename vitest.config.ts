import { defineConfig } from 'vitest/config';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// Workspace packages resolve to their TypeScript sources in tests, so a test never runs against a stale
// dist/ and parallel edits to the SDK never need a rebuild first.
const root = fileURLToPath(new URL('.', import.meta.url));
const aliases: { find: string; replacement: string }[] = [];
// A package's subpath exports `./host` (the SDK's host API) and `./vitest` (the testkit's vitest set-ups)
// resolve to src/host.ts and src/vitest.ts the same way.
for (const dir of ['packages', 'tooling']) {
  for (const name of readdirSync(join(root, dir))) {
    const entry = join(root, dir, name, 'src', 'index.ts');
    if (existsSync(entry)) aliases.push({ find: `@collector/${name}`, replacement: entry });
    for (const subpath of ['host', 'vitest']) {
      const file = join(root, dir, name, 'src', `${subpath}.ts`);
      if (existsSync(file)) aliases.push({ find: `@collector/${name}/${subpath}`, replacement: file });
    }
  }
}
// Exact-match only: '@collector/sdk' must not swallow '@collector/sdk-x' or '@collector/sdk/host'.
const alias = aliases.map((a) => ({ find: new RegExp(`^${a.find}$`), replacement: a.replacement }));

// .ci/run asks for a JSON report (to print the plain "N passed, N failed" line) through the environment, so
// the README's test command stays exactly `pnpm test`.
const jsonReport = process.env['VITEST_JSON_REPORT'];

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tooling/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
