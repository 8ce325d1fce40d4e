import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shebangLaunch } from '../src/lib/run-child.js';

// The bench launches a collector as its executable would run: the Node flags and environment of its shebang.
const script = (firstLine: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'shebang-')), 'main.js');
  writeFileSync(file, `${firstLine}\nconsole.log('x');\n`);
  return file;
};

describe('shebangLaunch', () => {
  it('reads the environment and Node flags of an env -S line', () => {
    expect(shebangLaunch(script('#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=16'))).toEqual({
      env: { MALLOC_MMAP_THRESHOLD_: '131072' },
      nodeArgs: ['--max-semi-space-size=16'],
    });
  });

  it('a plain node shebang or none adds nothing', () => {
    expect(shebangLaunch(script('#!/usr/bin/env node'))).toEqual({ env: {}, nodeArgs: [] });
    expect(shebangLaunch(script("import 'node:fs';"))).toEqual({ env: {}, nodeArgs: [] });
  });

  it('the pull collectors as built declare their launch line', () => {
    const lark = shebangLaunch(join(import.meta.dirname, '..', '..', '..', 'apps', 'lark', 'src', 'main.ts'));
    expect(lark.nodeArgs).toEqual(['--max-semi-space-size=16']);
    expect(lark.env).toEqual({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' });
  });
});
