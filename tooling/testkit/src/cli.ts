// The command line of the tooling scripts (pnpm bench, pnpm chaos, pnpm demo, the micro-benchmarks): each
// option declared once with what it does, so that `--help` prints exactly what parseArgs accepts, and a wrong
// option ends with one line and exit 2 instead of a stack trace.
// It lives here, not in tooling/bench, because tooling/demo uses it too and already depends on the testkit
// (the bench is a set of scripts with no exports; the demo depending on it would install the bench with it).
// Scripts import it as `@collector/testkit/cli`, which loads this module alone, not the testkit's peers.
import { parseArgs } from 'node:util';

export interface CliOption {
  type: 'string' | 'boolean';
  default?: string | boolean;
  /** What the option does (one line; the default is appended). */
  help: string;
}

/** An option's value: its type, never undefined when it has a default. */
type Value<O extends CliOption> = (O['type'] extends 'boolean' ? boolean : string) | (O extends { default: string | boolean } ? never : undefined);
export type CliValues<O extends Record<string, CliOption>> = { [K in keyof O]: Value<O[K]> };

export interface CliSpec<O extends Record<string, CliOption>> {
  /** How the script is started, as the user types it (the first word of the usage line and of every error). */
  command: string;
  /** What the script does, one paragraph. */
  summary: string;
  options: O;
  /** Lines after the options in --help (examples, notes). */
  epilogue?: string;
}

/** What a command line asks for: the values, or what to print and the exit code (0 for --help, 2 for a mistake). */
export type CliReading<O extends Record<string, CliOption>> = { values: CliValues<O> } | { exit: 0 | 2; stdout?: string; stderr?: string };

/** The --help text: every declared option with its help and default, then --help itself. */
export function cliHelp<O extends Record<string, CliOption>>(spec: CliSpec<O>): string {
  const lines = Object.entries(spec.options).map(([name, o]) => {
    const arg = o.type === 'string' ? ' <value>' : '';
    const given = o.default === undefined || o.default === false ? '' : ` (default ${String(o.default)})`;
    return `  --${name}${arg}\n      ${o.help}${given}`;
  });
  const tail = spec.epilogue ? ['', spec.epilogue] : [];
  return [`Usage: ${spec.command} [options]`, '', spec.summary, '', 'Options:', ...lines, '  --help, -h\n      this text', ...tail].join('\n') + '\n';
}

/** Reads `argv` (without node and the script) against the declaration; prints nothing, exits nothing. */
export function readCli<O extends Record<string, CliOption>>(spec: CliSpec<O>, argv: string[]): CliReading<O> {
  const config = Object.fromEntries(Object.entries(spec.options).map(([name, { type, default: value }]) => [name, value === undefined ? { type } : { type, default: value }]));
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...config, help: { type: 'boolean', short: 'h' } } as never }));
  } catch (error) {
    // parseArgs' messages are one line, but keep the promise of one line whatever it says.
    return { exit: 2, stderr: `${spec.command}: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}; see --help\n` };
  }
  if (values['help']) return { exit: 0, stdout: cliHelp(spec) };
  return { values: values as CliValues<O> };
}

/** One line on stderr and exit 2: for a value the script itself finds wrong after parsing. */
export function cliMistake(command: string, message: string): never {
  process.stderr.write(`${command}: ${message}; see --help\n`);
  process.exit(2);
}

/** Reads the process's command line: --help prints and exits 0, a wrong option prints one line and exits 2. */
export function parseCli<O extends Record<string, CliOption>>(command: string, summary: string, options: O, more: { epilogue?: string; argv?: string[] } = {}): CliValues<O> {
  const reading = readCli({ command, summary, options, epilogue: more.epilogue }, more.argv ?? process.argv.slice(2));
  if ('values' in reading) return reading.values;
  if (reading.stdout) process.stdout.write(reading.stdout);
  if (reading.stderr) process.stderr.write(reading.stderr);
  process.exit(reading.exit);
}
