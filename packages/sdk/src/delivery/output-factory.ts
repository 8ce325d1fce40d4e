import { OutputError } from '../errors/collector-error.js';
import type { Logger } from '../telemetry/logger.js';
import type { OutputConfig } from '../config/load-config.js';
import { ConsoleOutput } from './console-output.js';
import type { Output } from './types.js';

export interface OutputFactoryContext {
  /** certs/ and state/ resolve against it. */
  workDir: string;
  log: Logger;
  /** Hostname in the syslog header. */
  hostname: string;
}

/** Builds the outputs of `outputs:` in config.yaml, by type and DCSDK alias. */
export function createOutputs(outputs: Record<string, OutputConfig>, ctx: OutputFactoryContext): Output[] {
  return Object.entries(outputs).map(([name, output]) => {
    switch (output.type) {
      case 'console':
      case 'stdout':
        return new ConsoleOutput(name);
      default:
        throw new OutputError(600, `Output type ${output.type} is not supported yet`, { path: `outputs.${name}.type` });
    }
  });
}
