import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { describeError } from '../errors/collector-error.js';
import { resolveConfigPath } from '../config/load-config.js';
import { createLogger, logSettings, type ConfiguredLogging } from '../telemetry/logger.js';
import type { CollectorDefinition } from './definitions.js';
import { CollectorRuntime, isConfigError, type CollectorOptions } from './collector-runtime.js';
import { showState } from './show-state.js';
import { lagSentence } from '../telemetry/lag.js';
import { parseStartAt } from './start-at.js';

const USAGE = (bin: string) => `Usage: ${bin} [--config PATH] [--start-at TIME] [--once | --validate | --check [--json] | --show-state]

  --config PATH   the config file (default: config/$CONFIG_FILE, else config/config.yaml)
  --once          pull every enabled service until caught up, deliver, save, then exit
  --validate      check the config and exit; never touches the network
  --check         authenticate and probe each service and output, print a checklist (logs go to stderr)
  --json          with --check: the checklist as one JSON document
  --show-state    print each service's persisted state without secrets, and where each service starts
  --start-at TIME cutover from another collector: services with no saved position start at TIME
                  (ISO 8601 UTC, e.g. 2026-12-06T09:30:00Z) minus their look-back, not at their
                  configured start; services with a saved position ignore it
  --help          this text
  --version       the version

Exit codes: 0 success (also after SIGTERM/SIGINT: stopped within stop_timeout_seconds, state saved),
1 runtime failure (setup, pull, delivery refused or not done in time), 2 invalid config or usage.
Environment: LOG_LEVEL (error|warning|info|debug), LOG_FORMAT (text|json), HTTPS_PROXY, HTTP_PROXY, NO_PROXY,
OTEL_EXPORTER_OTLP_ENDPOINT (see the SDK manual).`;

export interface RunCollectorOptions extends CollectorOptions {
  argv?: string[];
  /** The executable name for --help. */
  bin?: string;
  /** Installs SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
  /** Where `--help`, `--version`, the `--check` checklist and the `--show-state` report go (default stdout). */
  stdout?: NodeJS.WritableStream;
  /** Where usage errors go, and the log lines of `--check` (default stderr). */
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
        'start-at': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
    }).values;
    if (args.json && !args.check) throw new Error('--json goes with --check');
  } catch (error) {
    const line = `UsageError 1: ${(error as Error).message}`;
    // LOG_FORMAT=json: even this line is JSON (the usage text is for people: --help prints it).
    if (logSettings().json) createLogger({ json: true, stream: options.stderr ?? process.stderr }).error(`${line}; see --help`);
    else (options.stderr ?? process.stderr).write(`${line}\n${USAGE(bin)}\n`);
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
  const startAt = args['start-at'] === undefined ? undefined : parseStartAt(args['start-at']);
  if (typeof startAt === 'string') {
    (options.stderr ?? process.stderr).write(`${startAt}\n${USAGE(bin)}\n`);
    return 2;
  }
  // --check keeps stdout for its checklist: its log lines go to stderr.
  const logStream = options.logStream ?? (args.check ? (options.stderr ?? process.stderr) : undefined);
  const configFile = args.config ?? options.configFile;
  let runtime: CollectorRuntime;
  try {
    // --check and --show-state touch no state: saves (budgets, fresh states) are dropped.
    const readOnlyState = options.readOnlyState || args.check === true || args['show-state'] === true;
    runtime = new CollectorRuntime(definition, { ...options, configFile, logStream, readOnlyState, startAt: startAt ?? options.startAt });
  } catch (error) {
    // The config could not be loaded: log in the format it asks for if it can be read at all (LOG_FORMAT
    // decides otherwise), so a JSON log pipeline parses even this first line.
    const settings = logSettings(configuredLogging(options, configFile));
    const log = options.logger ?? createLogger({ level: settings.level, json: settings.json, stream: logStream });
    for (const warning of settings.warnings) log.warning(warning);
    log.error(describeError(error));
    return isConfigError(error) ? 2 : 1;
  }
  const log = runtime.log;
  // JSON logs: Node's own warnings (deprecations, the AWS SDK's Node version notice) become JSON lines too;
  // NODE_OPTIONS=--no-warnings drops Node's text copy on stderr.
  const onWarning = (warning: Error) => log.warning(`${warning.name}: ${warning.message}`);
  if (logSettings(runtime.config.globals).json) process.on('warning', onWarning);
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
      return await runCheck(runtime, options.stdout ?? process.stdout, { format: args.json ? 'json' : 'text' });
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
  } finally {
    process.off('warning', onWarning);
  }
}

/** `globals.debug` and `globals.log_format` of a config that failed to load, when it can be read at all. */
function configuredLogging(options: RunCollectorOptions, configFile: string | undefined): ConfiguredLogging {
  try {
    const raw = options.config ?? parseYaml(readFileSync(resolveConfigPath(configFile, options.workDir ?? process.cwd()), 'utf8'));
    const globals = (raw as { globals?: unknown } | null)?.globals;
    return globals && typeof globals === 'object' ? (globals as ConfiguredLogging) : {};
  } catch {
    return {};
  }
}
