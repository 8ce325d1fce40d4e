import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorSpecs, spliceErrorTable } from '@collector/sdk/host';
import { awsSqsErrors } from '@collector/aws-sqs';

// The README's error table is rendered from the declaration; `pnpm docs` rewrites it.
const readmePath = new URL('../README.md', import.meta.url);

describe('README error table', () => {
  it('is the one rendered from awsSqsErrors', () => {
    const readme = readFileSync(readmePath, 'utf8');
    const rendered = spliceErrorTable(readme, errorSpecs(awsSqsErrors));
    if (process.env['UPDATE_DOCS'] === '1') writeFileSync(readmePath, rendered);
    else expect(readme).toBe(rendered);
  });
});
