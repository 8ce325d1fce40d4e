import { OutputError } from '../errors/collector-error.js';

/**
 * The receiver refuses us: it rejected our client certificate (OutputError 604), or its certificate does
 * not verify against our chain or name (605). Unlike a refused connection, a reset or a timeout, retrying
 * does not help until an operator changes certificates or config: `--once` gives up on it
 * (`once_refused_timeout_seconds`), a daemon keeps retrying with one ERROR line per minute.
 */
export function isRefusal(error: unknown): error is OutputError {
  return error instanceof OutputError && (error.id === 604 || error.id === 605);
}
