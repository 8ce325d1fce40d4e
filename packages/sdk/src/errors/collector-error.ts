import { redact } from '../secrets/redactor.js';
import type { CollectorErrorType } from './error-spec.js';

export type { CollectorErrorType } from './error-spec.js';

export interface CollectorErrorOptions {
  /** The config path the error is about, e.g. `inputs.lark.services.audit_infos.initial_start_time_in_utc_value`. */
  path?: string;
  cause?: unknown;
  /** A transient failure: the service may retry on its next cycle. */
  retryable?: boolean;
  /** What the operator should do about it (printed by `--check`). */
  remedy?: string;
}

export class CollectorError extends Error {
  readonly type: CollectorErrorType;
  readonly id: number;
  readonly path: string | undefined;
  readonly retryable: boolean;
  readonly remedy: string | undefined;

  constructor(type: CollectorErrorType, id: number, message: string, options: CollectorErrorOptions = {}) {
    // Messages often quote vendor bodies or URLs; redact before anything can print them.
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = type;
    this.type = type;
    this.id = id;
    this.path = options.path;
    this.retryable = options.retryable ?? false;
    this.remedy = options.remedy;
  }

  /** The one-line form of CONVENTIONS.md: `<Type> <ID>: <message> (<config path>)`. */
  toLine(): string {
    return `${this.type} ${this.id}: ${this.message}${this.path ? ` (${this.path})` : ''}`;
  }

  override toString(): string {
    return this.toLine();
  }
}

export class InitVariablesError extends CollectorError {
  constructor(id: number, message: string, options?: CollectorErrorOptions) {
    super('InitVariablesError', id, message, options);
  }
}
export class SetupError extends CollectorError {
  constructor(id: number, message: string, options?: CollectorErrorOptions) {
    super('SetupError', id, message, options);
  }
}
export class PullError extends CollectorError {
  constructor(id: number, message: string, options?: CollectorErrorOptions) {
    super('PullError', id, message, options);
  }
}
/** Config problems found by the SDK itself (schema, files, references); IDs documented in the SDK README. */
export class ConfigError extends CollectorError {
  constructor(id: number, message: string, options?: CollectorErrorOptions) {
    super('ConfigError', id, message, options);
  }
}
export class PersistenceError extends CollectorError {
  constructor(id: number, message: string, options?: CollectorErrorOptions) {
    super('PersistenceError', id, message, options);
  }
}
export class OutputError extends CollectorError {
  constructor(id: number, message: string, options?: CollectorErrorOptions) {
    super('OutputError', id, message, options);
  }
}

/** Renders any thrown value as one redacted line; a stack only when debugging. */
export function describeError(error: unknown, withStack = false): string {
  if (error instanceof CollectorError) {
    const cause = error.cause instanceof Error && withStack ? `\n  caused by: ${redact(error.cause.stack ?? String(error.cause))}` : '';
    return error.toLine() + (withStack && error.stack ? `\n${redact(error.stack)}` : '') + cause;
  }
  if (error instanceof Error) {
    return withStack && error.stack ? redact(error.stack) : redact(`${error.name}: ${error.message}`);
  }
  return redact(String(error));
}
