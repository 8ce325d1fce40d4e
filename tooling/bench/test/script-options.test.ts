// Every tooling script reads its options through @collector/testkit/cli: a wrong option ends with one line and
// exit 2, and --help lists every option the script reads. Runs the built scripts as a user does.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from '@collector/testkit';

ensureBuilt(['tooling/testkit', 'tooling/simulators', 'tooling/bench', 'tooling/demo']);

/** Each script and the options it reads (what its --help must list). */
const SCRIPTS: [script: string, options: string[]][] = [
  ['tooling/demo/dist/demo.js', ['only', 'scale', 'receiver', 'keep']],
  ['tooling/bench/dist/bench.js', ['events', 'startup-events', 'runs', 'only', 'out', 'skip-external', 'apps-root', 'baseline', 'cpu-prof', 'idle-seconds', 'idle-dump', 'globals']],
  ['tooling/bench/dist/chaos.js', ['events', 'repeat', 'outage-seconds', 'kill-trials', 'start-trials', 'down-at-start-seconds', 'only', 'scenarios', 'seed', 'logs-dir', 'out']],
  ['tooling/bench/dist/dedup-window.js', ['baseline', 'keys', 'child', 'kind']],
  ['tooling/bench/dist/json-records.js', ['rounds', 'ms']],
  ['tooling/bench/dist/simulator-answers.js', ['vendor', 'events', 'root', 'now']],
];

const run = (script: string, args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, script), ...args], { encoding: 'utf8', timeout: 30_000 });

describe.each(SCRIPTS)('%s', (script, options) => {
  it('an unknown option: one line on stderr, nothing on stdout, exit 2', () => {
    const result = run(script, ['--no-such-option']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^[^\n]+: Unknown option '--no-such-option'; see --help\n$/);
  });

  it('--help lists every option it reads and exits 0', () => {
    const result = run(script, ['--help']);
    expect(result.status).toBe(0);
    const listed = [...result.stdout.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual([...options, 'help']);
  });
});

describe('values a script checks itself', () => {
  it.each([
    ['tooling/demo/dist/demo.js', ['--only', 'nope']],
    ['tooling/demo/dist/demo.js', ['--receiver', 'syslog-ng']],
    ['tooling/demo/dist/demo.js', ['--scale', 'big']],
    ['tooling/bench/dist/bench.js', ['--only', 'nope', '--out', '/dev/null']],
    ['tooling/bench/dist/chaos.js', ['--scenarios', 'nope', '--out', '/dev/null']],
    ['tooling/bench/dist/simulator-answers.js', ['--vendor', 'nope']],
  ])('%s %j: one line, exit 2', (script, args) => {
    const result = run(script, args);
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(result.stderr).toMatch(/; see --help\n$/);
  });
});
