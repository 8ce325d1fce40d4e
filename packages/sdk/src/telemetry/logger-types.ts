// The logger as services and the runtime see it (types only: the contract imports these, not the logger itself).

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
  /** Lines are JSON objects (`LOG_FORMAT=json`) rather than the manuals' text; absent means text. */
  readonly json?: boolean;
}

export interface LogContext {
  /** `InputProcess`, `OutputProcess` or `MainThread` in the manuals' lines. */
  process?: string;
  /** The component, e.g. `LarkBasePuller(lark,964383,audit_infos,predefined)`. */
  module?: string;
  inputName?: string;
  serviceName?: string;
}
