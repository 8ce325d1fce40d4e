// What an error declaration is, apart from the code that builds errors from it: the vendor contract
// (runtime/definitions.ts) holds a collector's declarations by these names.

/**
 * The error types operators know from the manuals' troubleshooting tables. Every failure the collector
 * reports is one of these, with a numeric ID, so that a log line can be looked up in the README.
 */
export type CollectorErrorType =
  | 'InitVariablesError'
  | 'SetupError'
  | 'PullError'
  | 'ConfigError'
  | 'PersistenceError'
  | 'OutputError'
  | 'UsageError';

/**
 * A vendor's (or the SDK's) documented error table as data. One declaration gives the error constructors,
 * the `--check` remedies and the README table (`renderErrorTable`), so the three can never disagree.
 *
 * `message` is the text operators grep for, with `{name}` placeholders filled at the throw site; the README
 * shows the placeholders as they are written here.
 */
export interface ErrorSpec {
  type: CollectorErrorType;
  id: number;
  message: string;
  /** When the error happens, for the README's "cause" column. */
  cause: string;
  /** What the operator should do; printed by `--check` and in the README. */
  remedy: string;
  /** A transient failure: the service retries on its next cycle. */
  retryable?: boolean;
  /** The config path the error is about, with `{name}` placeholders like the message. */
  path?: string;
  /**
   * The key of an earlier declaration with the same `<Type> <ID>`: some manuals give one ID to several
   * messages (a start time that is malformed or in the future). Each message gets its own README row.
   */
  sameIdAs?: string;
}

/** The key under which a catalog from `defineErrors` holds its declarations, in declaration order. */
export const ERROR_SPECS: unique symbol = Symbol('error specs');
