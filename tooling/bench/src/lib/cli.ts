// The command line of the bench scripts: each option declared once with what it does, so that `--help`
// prints exactly what parseArgs accepts, and a wrong option ends with one line instead of a stack trace.
import { parseArgs } from 'node:util';

interface CliOption {
  type: 'string' | 'boolean';
  default?: string | boolean;
  /** What the option does (one line; the default is appended). */
  help: string;
}

/** An option's value: its type, never undefined when it has a default. */
type Value<O extends CliOption> = (O['type'] extends 'boolean' ? boolean : string) | (O extends { default: string | boolean } ? never : undefined);

export function parseCli<O extends Record<string, CliOption>>(command: string, summary: string, options: O): { [K in keyof O]: Value<O[K]> } {
  const config = Object.fromEntries(Object.entries(options).map(([name, { type, default: value }]) => [name, value === undefined ? { type } : { type, default: value }]));
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ options: { ...config, help: { type: 'boolean', short: 'h' } } as never }));
  } catch (error) {
    console.error(`${command}: ${(error as Error).message}; see --help`);
    process.exit(2);
  }
  if (values['help']) {
    const lines = Object.entries(options).map(([name, o]) => {
      const arg = o.type === 'string' ? ` <value>` : '';
      const given = o.default === undefined || o.default === false ? '' : ` (default ${String(o.default)})`;
      return `  --${name}${arg}\n      ${o.help}${given}`;
    });
    console.log([`Usage: ${command} [options]`, '', summary, '', 'Options:', ...lines, '  --help, -h\n      this text'].join('\n'));
    process.exit(0);
  }
  return values as never;
}
