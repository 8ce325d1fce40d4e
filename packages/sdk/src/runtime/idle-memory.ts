import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { exposedGc } from './exposed-gc.js';

/**
 * Below this wait a daemon is not idle enough to be worth a full collection (and it would cost a service
 * that pulls back to back a collection per cycle).
 */
export const IDLE_RELEASE_MIN_WAIT_MS = 5_000;

/** glibc's `malloc_trim(0)` from the app's native helper, `null` where there is none. */
let trim: (() => boolean) | null | undefined;

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
 * (`exposedGc`: the process needs no flag).
 *
 * Then glibc's heaps: a catch-up leaves them with megabytes of freed chunks under a few still in use, and
 * `free()` returns memory to the system only from a heap's top (an idle daemon after 100,000 events: 13 of
 * the 18 MiB of glibc's main heap were free and resident). `malloc_trim(0)` gives back every free page; it is
 * reached through `release-memory.node`, a one-function native helper the app's bundle carries
 * (tooling/app-bundle). Without it (the SDK run from its own files, no C compiler at build time, not glibc)
 * only V8's part is done.
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
  exposedGc()?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  if (trim === undefined) trim = loadTrim();
  try {
    trim?.();
  } catch {
    // A foreign helper whose trim() throws: from a timer that would end the process. Go on without it.
    trim = null;
  }
}

/**
 * The helper beside the bundle: `dist/release-memory.node`, next to `main.js` or one level above the chunk that
 * holds this code. A helper that fails to load (another Node ABI, a foreign C library) counts as none.
 */
function loadTrim(): (() => boolean) | null {
  for (const candidate of ['./release-memory.node', '../release-memory.node']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      const helper = { exports: {} as { trim?: () => boolean } };
      process.dlopen(helper, path);
      return typeof helper.exports.trim === 'function' ? helper.exports.trim : null;
    } catch {
      return null;
    }
  }
  return null;
}
