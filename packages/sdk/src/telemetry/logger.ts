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

// DCSDK level names: npm's levels (as winston had them) with `warning` instead of `warn`; a line is written when its
// level's number is at most the logger's.
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

/**
 * Writes each line to the stream and hands each record to the subscribers, in the caller's turn. This was winston
 * (a logger stream piped into a stream transport and a subscribers' transport), whose part in the output was the
 * level filter and the newline; its ten packages (logform, colors, colorspace, fecha, async, readable-stream,
 * ...) stayed loaded in every collector for it: 0.3 MB of the bundle's source and ~1.5 MiB of V8's heap at idle
 * (docs/benchmarks.md, "idle RSS, wave 11").
 */
class LineLogger implements Logger {
  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly context: LogContext,
    private readonly maxLevel: number,
    readonly json: boolean,
  ) {}

  get debugEnabled(): boolean {
    return this.maxLevel >= levels.debug;
  }

  private write(level: LogLevel, text: string): void {
    if (levels[level] > this.maxLevel) return;
    const msg = redact(text);
    const time = new Date();
    const context = this.context;
    this.stream.write(`${formatLogLine({ ...context, time, level, msg }, this.json)}\n`);
    if (sinks.size === 0) return;
    const record: LogRecord = {
      level,
      msg,
      time,
      process: String(context.process ?? 'MainThread'),
      module: String(context.module ?? 'MainThread'),
      inputName: context.inputName,
      serviceName: context.serviceName,
    };
    for (const sink of sinks) sink(record);
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
    this.write('debug', msg);
  }
  child(context: LogContext): Logger {
    return new LineLogger(this.stream, { ...this.context, ...context }, this.maxLevel, this.json);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const json = options.json === true;
  const level = options.level ?? (options.debug ? 'debug' : 'info');
  return new LineLogger(options.stream ?? process.stdout, { process: 'MainThread', module: 'MainThread' }, levels[level], json);
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
