import { describe, expect, it } from 'vitest';
import { cliHelp, readCli, type CliOption } from '@collector/testkit';

const OPTIONS = {
  events: { type: 'string', default: '100000', help: 'events per run' },
  only: { type: 'string', help: 'comma-separated collectors' },
  keep: { type: 'boolean', default: false, help: 'keep the work directory' },
} satisfies Record<string, CliOption>;
const SPEC = { command: 'node script.js', summary: 'What the script does.', options: OPTIONS, epilogue: 'Example: node script.js --only lark' };

describe('readCli: one declaration for parsing and --help', () => {
  it('gives the values with their defaults', () => {
    expect(readCli(SPEC, ['--only', 'lark'])).toEqual({ values: { events: '100000', only: 'lark', keep: false } });
    expect(readCli(SPEC, ['--events=5', '--keep'])).toEqual({ values: { events: '5', keep: true } });
  });

  it('--help (or -h) lists every declared option with its help and default, and exits 0', () => {
    for (const flag of ['--help', '-h']) {
      const reading = readCli(SPEC, [flag]);
      expect(reading).toMatchObject({ exit: 0 });
      const text = 'stdout' in reading ? reading.stdout! : '';
      expect(text).toBe(cliHelp(SPEC));
      expect(text.startsWith('Usage: node script.js [options]\n')).toBe(true);
      for (const [name, o] of Object.entries(OPTIONS)) expect(text).toContain(`--${name}${o.type === 'string' ? ' <value>' : ''}\n      ${o.help}`);
      expect(text).toContain('events per run (default 100000)');
      expect(text).toContain('--help, -h');
      expect(text.trimEnd().endsWith('Example: node script.js --only lark')).toBe(true);
    }
  });

  it.each([
    ['an unknown option', ['--nope']],
    ['an option without its value', ['--only']],
    ['a value given to a flag', ['--keep=yes']],
    ['a positional argument', ['lark']],
  ])('%s: one line on stderr, nothing on stdout, exit 2', (_label, argv) => {
    const reading = readCli(SPEC, argv);
    expect(reading).toMatchObject({ exit: 2 });
    const stderr = 'stderr' in reading ? reading.stderr! : '';
    expect(stderr).toMatch(/^node script\.js: .+; see --help\n$/);
    expect(stderr.split('\n')).toHaveLength(2);
    expect('stdout' in reading && reading.stdout).toBeFalsy();
  });
});
