import { parseArgs } from 'node:util';
import { describeError } from '../errors/collector-error.js';
import { createLogger } from '../telemetry/logger.js';
import type { CollectorDefinition } from './definitions.js';
import { CollectorRuntime, isConfigError, type CollectorOptions } from './collector-runtime.js';
import { showState } from './show-state.js';
import { lagSentence } from '../telemetry/lag.js';

const USAGE = (bin: string) => `Usage: ${bin} [--config PATH] [--once | --validate | --check | --show-state]

  --config PATH   the config file (default: config/$CONFIG_FILE, else config/config.yaml)
  --once          pull every enabled service until caught up, deliver, save, then exit
  --validate      check the config and exit; never touches the network
  --check         authenticate and probe each service and output, print a checklist
  --show-state    print each service's persisted state without secrets
  --help          this text
  --version       the version

Exit codes: 0 success (also after SIGTERM/SIGINT: stopped within stop_timeout_seconds, state saved),
1 runtime failure (setup, pull, delivery refused or not done in time), 2 invalid config or usage.`;

export interface RunCollectorOptions extends CollectorOptions {
  argv?: string[];
  /** The executable name for --help. */
  bin?: string;
  /** Installs SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
  /** Where `--help`, `--version`, the `--check` checklist and the `--show-state` report go (default stdout). */
  stdout?: NodeJS.WritableStream;
  /** Where usage errors go (default stderr). */
  stderr?: NodeJS.WritableStream;
}

/** The whole command line of a collector app. Returns the exit code; never throws. */
export async function runCollector(definition: CollectorDefinition, options: RunCollectorOptions = {}): Promise<number> {
  const bin = options.bin ?? `${definition.name.replace(/_collector$/, '').replace(/_/g, '-')}-collector`;
  let args;
  try {
    args = parseArgs({
      args: options.argv ?? process.argv.slice(2),
      options: {
        config: { type: 'string' },
        once: { type: 'boolean' },
        validate: { type: 'boolean' },
        check: { type: 'boolean' },
        'show-state': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
    }).values;
  } catch (error) {
    (options.stderr ?? process.stderr).write(`UsageError 1: ${(error as Error).message}\n${USAGE(bin)}\n`);
    return 2;
  }
  if (args.help) {
    (options.stdout ?? process.stdout).write(`${USAGE(bin)}\n`);
    return 0;
  }
  if (args.version) {
    (options.stdout ?? process.stdout).write(`${definition.name} ${definition.version}\n`);
    return 0;
  }
  let runtime: CollectorRuntime;
  try {
    // --check and --show-state touch no state: saves (budgets, fresh states) are dropped.
    const readOnlyState = options.readOnlyState || args.check === true || args['show-state'] === true;
    runtime = new CollectorRuntime(definition, { ...options, configFile: args.config ?? options.configFile, readOnlyState });
  } catch (error) {
    const log = options.logger ?? createLogger({ stream: options.logStream });
    log.error(describeError(error));
    return isConfigError(error) ? 2 : 1;
  }
  const log = runtime.log;
  try {
    if (args.validate) {
      await runtime.validate();
      log.info('The configuration is valid');
      return 0;
    }
    if (args['show-state']) {
      (options.stdout ?? process.stdout).write(await showState(runtime));
      await runtime.store.close();
      await runtime.journal.close();
      return 0;
    }
    if (args.check) {
      const { runCheck } = await import('./check.js');
      return await runCheck(runtime, options.stdout ?? process.stdout);
    }
    if (options.handleSignals !== false) {
      const onSignal = (signal: string) => {
        log.info(`Received ${signal}`);
        void runtime.stop();
        // The stop is bounded by its own deadlines; should anything still hold the process past them, exit
        // with a line rather than wait for a SIGKILL that loses the state save.
        const budgetMs = Number(runtime.config.globals['stop_timeout_seconds'] ?? 10) * 1000;
        setTimeout(() => {
          log.error(`The stop did not finish within stop_timeout_seconds (${budgetMs / 1000} s) + 5 s: exiting now; what was not saved is pulled again`);
          process.exit(1);
        }, budgetMs + 5_000).unref();
      };
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
    }
    if (args.once) {
      const summary = await runtime.runOnce();
      summary.services.forEach((s, i) =>
        log.info(`Summary ${s.input}/${s.service}: received ${s.received}, duplicates ${s.duplicates}, sent ${s.sent}, errors ${s.errors}.${lagSentence(runtime.runners[i]?.checkpointTime)}`),
      );
      return summary.ok ? 0 : 1;
    }
    await runtime.run();
    log.info('Collector stopped');
    return 0;
  } catch (error) {
    log.error(describeError(error, log.debugEnabled));
    await runtime.stop().catch(() => undefined);
    return isConfigError(error) ? 2 : 1;
  }
}
