import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The SDK's two entry points, read from their sources (type-only names included), against the README's
// tables and against what the vendor packages import.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const sdk = join(repo, 'packages/sdk');
const read = (path: string) => readFileSync(path, 'utf8');
const VENDORS = readdirSync(join(repo, 'packages')).filter((p) => p !== 'sdk');

/** The names in `{ a, type B, c as d }` lists: the exported (or imported) name, without `type`. */
function names(list: string, side: 'exported' | 'imported'): string[] {
  return list
    .split(',')
    .map((s) => s.replace(/\/\/.*$/gm, '').trim().replace(/^type\s+/, ''))
    .filter(Boolean)
    .map((s) => {
      const [left, right] = s.split(/\s+as\s+/);
      return (side === 'exported' ? (right ?? left) : left)!.trim();
    });
}

function exportsOf(file: string): string[] {
  const text = read(join(sdk, 'src', file)).replace(/^\/\/.*$/gm, '');
  return [...text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*from/g)].flatMap((m) => names(m[1]!, 'exported'));
}

function readmeTable(heading: string): string[] {
  const readme = read(join(sdk, 'README.md'));
  const start = readme.indexOf(`### \`${heading}\``);
  expect(start, `README section ${heading}`).toBeGreaterThan(0);
  const body = readme.slice(start).split('\n').slice(1);
  const end = body.findIndex((line) => line.startsWith('#'));
  return body
    .slice(0, end)
    .map((line) => /^\| `([^`]+)` \|/.exec(line)?.[1])
    .filter((n): n is string => n !== undefined);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const main = exportsOf('index.ts');
const host = exportsOf('host.ts');

describe('public API', () => {
  it('the two entry points share no name and export each name once', () => {
    expect(main.filter((n) => host.includes(n))).toEqual([]);
    expect(new Set(main).size).toBe(main.length);
    expect(new Set(host).size).toBe(host.length);
  });

  it('the README lists exactly what each entry point exports', () => {
    expect(main).toContain('defineCollector');
    expect(host).toContain('runCollector');
    expect(readmeTable('@collector/sdk').sort()).toEqual([...main].sort());
    expect(readmeTable('@collector/sdk/host').sort()).toEqual([...host].sort());
  });

  it.each(VENDORS)('%s: src imports only the vendor entry point, and only names it exports', (vendor) => {
    const wrong: string[] = [];
    for (const file of sourceFiles(join(repo, 'packages', vendor, 'src'))) {
      const text = read(file);
      for (const m of text.matchAll(/from\s+'(@collector\/sdk[^']*)'/g)) if (m[1] !== '@collector/sdk') wrong.push(`${file}: ${m[1]}`);
      for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s+'@collector\/sdk'/g)) {
        for (const name of names(m[1]!, 'imported')) if (!main.includes(name)) wrong.push(`${file}: ${name}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the contract file (runtime/definitions.ts) imports types only, from modules that hold no implementation', () => {
    const contract = join(sdk, 'src/runtime/definitions.ts');
    const imports = [...read(contract).matchAll(/^import\b[^;]*;/gm)].map((m) => m[0]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => !i.startsWith('import type '))).toEqual([]);
    // Each imported module declares types (and at most a `unique symbol` constant): no function or class.
    const withCode = imports
      .map((i) => /from '(\.[^']+)\.js'/.exec(i)![1]!)
      .filter((module) => /^export (?:async )?(?:function|class|default)\b|^(?:async )?function\b|^class\b/m.test(read(join(dirname(contract), `${module}.ts`))));
    expect(withCode).toEqual([]);
  });
});
