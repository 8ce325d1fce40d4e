import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inertSettings } from '../src/config/sdk-schema.js';

// The README's table of accepted-but-inert Devo SDK settings is rendered from `inertSettings`, the same
// declaration that the config loader warns from; `UPDATE_DOCS=1` rewrites it.
const readmePath = new URL('../README.md', import.meta.url);
const BEGIN = '<!-- inert-settings:begin -->';
const END = '<!-- inert-settings:end -->';

function render(): string {
  const rows = Object.entries(inertSettings).map(([path, why]) => `| \`${path}\` | ${why} |`);
  return ['| setting (`*`: any output) | why it has no effect |', '|---|---|', ...rows].join('\n');
}

describe('README table of inert Devo SDK settings', () => {
  it('is the one rendered from inertSettings', () => {
    const readme = readFileSync(readmePath, 'utf8');
    const begin = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    expect(begin).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(begin);
    const rendered = `${readme.slice(0, begin + BEGIN.length)}\n${render()}\n${readme.slice(end)}`;
    if (process.env['UPDATE_DOCS'] === '1') writeFileSync(readmePath, rendered);
    else expect(readme).toBe(rendered);
  });
});
