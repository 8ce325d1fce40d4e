import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Below this wait a daemon is not idle enough to be worth a full collection (and it would cost a service
 * that pulls back to back a collection per cycle).
 */
export const IDLE_RELEASE_MIN_WAIT_MS = 5_000;

/** V8's `gc` with the options `--expose-gc` accepts (V8 ≥ 11). */
type ExposedGc = (options?: { type: 'major'; execution: 'sync'; flavor: 'regular' | 'last-resort' }) => void;

let collect: ExposedGc | null | undefined;

/** How long the process must have been (nearly) idle before the collection runs; checked again while it is not. */
const SETTLE_MS = 1_000;
/** Event-loop utilisation over the last SETTLE_MS below which the process counts as idle (a catch-up runs at 0.2–1). */
const IDLE_UTILISATION = 0.1;

let pending: NodeJS.Timeout | undefined;

/**
 * Hands the memory of a finished pull cycle back to the system before the daemon waits for the next one.
 * A catch-up allocates fast, so V8 grows its heap; left alone it keeps it for a long while after. A plain full
 * collection frees the objects but not the memory: V8 keeps the grown young generation and pools the empty
 * old-space pages (measured on Node 24: heapTotal 69 MiB after `gc()` for 4 MiB of live objects). The
 * "last resort" flavour is V8's low-memory collection (`Isolate::LowMemoryNotification`): it compacts, shrinks
 * the young generation and returns the pooled pages to the OS (heapTotal 6 MiB, RSS −55 MiB in the same test).
 * It is several full collections in a row (~0.1–0.2 s of CPU with a collector's heap), so it runs once the whole
 * process is idle, not when one of several services goes idle while the others still pull: the calls of a
 * second coalesce into one, which waits until the event loop was idle for a second. `gc` is V8's own
 * (`--expose-gc`), reached from a fresh context so the process needs no flag.
 */
export function releaseIdleMemory(): void {
  if (pending) return;
  let since = performance.eventLoopUtilization();
  const settle = () => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, since).utilization > IDLE_UTILISATION;
    since = now;
    pending = busy ? setTimeout(settle, SETTLE_MS).unref() : undefined;
    if (!busy) collectAll();
  };
  pending = setTimeout(settle, SETTLE_MS).unref();
}

function collectAll(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as ExposedGc;
    } catch {
      collect = null;
    }
  }
  collect?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
