import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Below this wait a daemon is not idle enough to be worth a full collection (and it would cost a service
 * that pulls back to back a collection per cycle).
 */
export const IDLE_RELEASE_MIN_WAIT_MS = 5_000;

let collect: (() => void) | null | undefined;

/**
 * Hands the memory of a finished pull cycle back to the system before the daemon waits for the next one.
 * A catch-up allocates fast, so V8 grows its heap; left alone it keeps most of it for a long while after
 * (measured: ~190 MiB resident while idle after 100k events, docs/benchmarks.md). One full, compacting
 * collection at the start of a long wait returns the empty pages at once; it costs a few milliseconds per
 * cycle. `gc` is V8's own (`--expose-gc`), reached from a fresh context so the process needs no flag.
 */
export function releaseIdleMemory(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  collect?.();
}
