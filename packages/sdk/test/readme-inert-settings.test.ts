import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { globalsSchema, inertSettings, outputsSchema } from '../src/config/sdk-schema.js';
import type { JsonSchema } from '../src/runtime/definitions.js';

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

describe('inert Devo SDK settings', () => {
  // A path the schema stopped declaring would be refused as an unknown key before its warning could be given.
  const roots: Record<string, JsonSchema> = { globals: globalsSchema, outputs: outputsSchema };
  const resolve = (path: string): JsonSchema | undefined => {
    const [root, ...parts] = path.split('.');
    let schema: JsonSchema | undefined = roots[root!];
    for (const part of parts) {
      const next: unknown = part === '*' ? schema?.['additionalProperties'] : (schema?.['properties'] as Record<string, JsonSchema> | undefined)?.[part];
      schema = next && typeof next === 'object' ? (next as JsonSchema) : undefined;
    }
    return schema;
  };

  it.each(Object.keys(inertSettings))('%s is a key the config schema accepts', (path) => {
    expect(resolve(path)).toBeDefined();
  });

  it('finds a path the schema does not declare', () => {
    expect(resolve('globals.no_such_setting')).toBeUndefined();
    expect(resolve('outputs.*.config.no_such_setting')).toBeUndefined();
  });
});
