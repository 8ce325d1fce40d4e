import winston from 'winston';
import Transport from 'winston-transport';
import { redact } from '../secrets/redactor.js';

export type LogLevel = 'error' | 'warning' | 'info' | 'debug';

/** A log line as the internal sender forwards it to Devo (`devo.collectors.out.local.<level>`). */
export interface LogRecord {
  level: LogLevel;
  msg: string;
  time: Date;
  process: string;
  module: string;
  inputName?: string;
  serviceName?: string;
}

export interface Logger {
  error(msg: string): void;
  warning(msg: string): void;
  /** Alias of warning. */
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /** A logger for a narrower component (e.g. a service's puller). */
  child(context: LogContext): Logger;
  readonly debugEnabled: boolean;
}

export interface LogContext {
  /** `InputProcess`, `OutputProcess` or `MainThread` in the manuals' lines. */
  process?: string;
  /** The component, e.g. `LarkBasePuller(lark,964383,audit_infos,predefined)`. */
  module?: string;
  inputName?: string;
  serviceName?: string;
}

export interface LoggerOptions {
  debug?: boolean;
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

/** `2024-06-24T08:09:59.388` in UTC, the manuals' timestamp without zone. */
function timestamp(date: Date): string {
  return date.toISOString().slice(0, 23);
}

const lineFormat = winston.format.printf((info) => {
  const level = String(info.level).toUpperCase().padStart(7);
  const where = `${info['process'] ?? 'MainThread'}::${info['module'] ?? 'MainThread'}`;
  return `${info['timestamp']} ${level} ${where} -> ${info.message}`;
});

class SinkTransport extends Transport {
  override log(info: Record<string, unknown>, next: () => void): void {
    if (sinks.size > 0) {
      const record: LogRecord = {
        level: info['level'] as LogLevel,
        msg: String(info['message']),
        time: new Date(),
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
  ) {}

  private write(level: LogLevel, msg: string): void {
    this.base.log({ level, message: redact(msg), timestamp: timestamp(new Date()), ...this.context });
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
    return new WinstonLogger(this.base, { ...this.context, ...context }, this.debugEnabled);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.json
    ? winston.format.printf((info) =>
        JSON.stringify({
          time: info['timestamp'],
          level: info.level,
          process: info['process'],
          module: info['module'],
          input: info['inputName'],
          service: info['serviceName'],
          msg: info.message,
        }),
      )
    : lineFormat;
  const base = winston.createLogger({
    levels,
    level: options.debug ? 'debug' : 'info',
    transports: [
      new winston.transports.Stream({ stream: options.stream ?? process.stdout, format }),
      new SinkTransport({ level: options.debug ? 'debug' : 'info' }),
    ],
  });
  return new WinstonLogger(base, { process: 'MainThread', module: 'MainThread' }, options.debug ?? false);
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
