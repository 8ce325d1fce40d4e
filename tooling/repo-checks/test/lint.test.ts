import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The type-aware lint (eslint.config.js) over every package's, app's and tool's sources: no promise left
// floating, none passed where a callback's result is ignored. The same command runs in CI (`pnpm lint`).
const repo = fileURLToPath(new URL('../../../', import.meta.url));

describe('lint', () => {
  const eslint = new ESLint({ cwd: repo });

  it('finds nothing in the sources', async () => {
    const results = await eslint.lintFiles(['packages/*/src/**/*.ts', 'apps/*/src/**/*.ts', 'tooling/*/src/**/*.ts']);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(problems).toEqual([]);
  }, 600_000);

  it('catches a floating promise (the check is not vacuous)', async () => {
    const file = join(repo, 'packages/sdk/src/runtime/abortable-sleep.ts');
    const [result] = await eslint.lintText(`${readFileSync(file, 'utf8')}\nexport function forgets(): void {\n  sleep(10);\n}\n`, { filePath: file });
    expect(result!.messages.map((m) => m.ruleId)).toContain('@typescript-eslint/no-floating-promises');
  }, 120_000);
});
