import winston from 'winston';
import Transport from 'winston-transport';
import { redact } from '../secrets/redactor.js';
import type { LogContext, Logger, LogLevel, LogRecord } from './logger-types.js';

export type { LogContext, Logger, LogLevel, LogRecord } from './logger-types.js';

export interface LoggerOptions {
  /** Shorthand for `level: 'debug'` (`globals.debug`). */
  debug?: boolean;
  /** The most detailed level written (default `info`, `debug` with `debug: true`). */
  level?: LogLevel;
  /** One JSON object per line instead of the manuals' text format. */
  json?: boolean;
  /** Where lines go; stdout by default. Tests pass their own stream. */
  stream?: NodeJS.WritableStream;
}

// DCSDK level names: winston's npm levels with `warning` instead of `warn`.
const levels = { error: 0, warning: 1, info: 2, debug: 3 } as const;
type Sink = (record: LogRecord) => void;
const sinks = new Set<Sink>();

/** Subscribes to every log record (the internal sender uses this). Returns an unsubscribe function. */
export function onLogRecord(sink: Sink): () => void {
  sinks.add(sink);
  return () => sinks.delete(sink);
}

/** `2024-06-24T08:09:59.388` in UTC, the manuals' timestamp without zone (text lines). */
function timestamp(date: Date): string {
  return date.toISOString().slice(0, 23);
}

/** What the logger is told by `globals` (absent before the config is read). */
export interface ConfiguredLogging {
  debug?: boolean;
  log_format?: string;
}

export interface LogSettings {
  level: LogLevel;
  json: boolean;
  /** Environment values that were not understood (logged as warnings once the logger exists). */
  warnings: string[];
}

const LEVEL_NAMES: Record<string, LogLevel> = { error: 'error', warning: 'warning', warn: 'warning', info: 'info', debug: 'debug' };

/**
 * The level and format: `LOG_LEVEL` (error, warning, info, debug) and `LOG_FORMAT` (text, json) override
 * `globals.debug` and `globals.log_format`, so an operator can change them without editing config.yaml,
 * and so the lines written before the config is read already have the right format.
 */
export function logSettings(configured: ConfiguredLogging = {}, env: NodeJS.ProcessEnv = process.env): LogSettings {
  const warnings: string[] = [];
  let level: LogLevel = configured.debug === true ? 'debug' : 'info';
  let json = configured.log_format === 'json';
  const envLevel = env['LOG_LEVEL']?.trim();
  if (envLevel) {
    const known = LEVEL_NAMES[envLevel.toLowerCase()];
    if (known) level = known;
    else warnings.push(`LOG_LEVEL=${envLevel} is not one of error, warning, info, debug; using ${level}`);
  }
  const envFormat = env['LOG_FORMAT']?.trim();
  if (envFormat) {
    const format = envFormat.toLowerCase();
    if (format === 'json' || format === 'text') json = format === 'json';
    else warnings.push(`LOG_FORMAT=${envFormat} is not one of text, json; using ${json ? 'json' : 'text'}`);
  }
  return { level, json, warnings };
}

/** What one log line holds, in the text or the JSON format. */
export interface LogLine {
  time: Date;
  level: string;
  process?: unknown;
  module?: unknown;
  inputName?: unknown;
  serviceName?: unknown;
  msg: unknown;
}

/**
 * One line as the logger writes it: the manuals' `<time> <LEVEL> <process>::<module> -> <msg>`, or with `json`
 * one object with the full ISO 8601 time and its zone (`Z`): log pipelines must not guess it. The console
 * output prints its events through this too, as the manuals' ConsoleSender does.
 */
export function formatLogLine(line: LogLine, json: boolean): string {
  if (json) {
    return JSON.stringify({
      time: line.time.toISOString(),
      level: line.level,
      process: line.process,
      module: line.module,
      input: line.inputName,
      service: line.serviceName,
      msg: line.msg,
    });
  }
  const where = `${line.process ?? 'MainThread'}::${line.module ?? 'MainThread'}`;
  return `${timestamp(line.time)} ${line.level.toUpperCase().padStart(7)} ${where} -> ${String(line.msg)}`;
}

const asLine = (info: winston.Logform.TransformableInfo): LogLine => ({
  time: info['time'] as Date,
  level: String(info.level),
  process: info['process'],
  module: info['module'],
  inputName: info['inputName'],
  serviceName: info['serviceName'],
  msg: info.message,
});

class SinkTransport extends Transport {
  override log(info: Record<string, unknown>, next: () => void): void {
    if (sinks.size > 0) {
      const record: LogRecord = {
        level: info['level'] as LogLevel,
        msg: String(info['message']),
        time: info['time'] as Date,
        process: String(info['process'] ?? 'MainThread'),
        module: String(info['module'] ?? 'MainThread'),
        inputName: info['inputName'] as string | undefined,
        serviceName: info['serviceName'] as string | undefined,
      };
      for (const sink of sinks) sink(record);
    }
    next();
  }
}

class WinstonLogger implements Logger {
  constructor(
    private readonly base: winston.Logger,
    private readonly context: LogContext,
    readonly debugEnabled: boolean,
    readonly json: boolean,
  ) {}

  private write(level: LogLevel, msg: string): void {
    this.base.log({ level, message: redact(msg), time: new Date(), ...this.context });
  }
  error(msg: string): void {
    this.write('error', msg);
  }
  warning(msg: string): void {
    this.write('warning', msg);
  }
  warn(msg: string): void {
    this.write('warning', msg);
  }
  info(msg: string): void {
    this.write('info', msg);
  }
  debug(msg: string): void {
    if (this.debugEnabled) this.write('debug', msg);
  }
  child(context: LogContext): Logger {
    return new WinstonLogger(this.base, { ...this.context, ...context }, this.debugEnabled, this.json);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const json = options.json === true;
  const format = winston.format.printf((info) => formatLogLine(asLine(info), json));
  const level = options.level ?? (options.debug ? 'debug' : 'info');
  const base = winston.createLogger({
    levels,
    level,
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stdout, format }), new SinkTransport({ level })],
  });
  return new WinstonLogger(base, { process: 'MainThread', module: 'MainThread' }, level === 'debug', json);
}

/** A logger that drops everything (library use without logging). */
export const silentLogger: Logger = {
  error() {},
  warning() {},
  warn() {},
  info() {},
  debug() {},
  child() {
    return silentLogger;
  },
  debugEnabled: false,
};
