import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc` as `--expose-gc` gives it, called for a scavenge only. */
type Scavenge = (options: { type: 'minor'; execution: 'sync' }) => void;

let scavenge: Scavenge | null | undefined;

/**
 * A page text at least this long (UTF-16 code units) is parsed into a young generation emptied first: ~1,600
 * Graph rows. A string over 128 KiB lives in V8's large-object space, whose objects a scavenge does not copy
 * but promotes as soon as they survive one.
 */
export const LARGE_PAGE_CHARS = 512 * 1024;

/**
 * Runs a scavenge now, before a large page is parsed. Parsing a 5000-row Graph page allocates ~6 MB of rows
 * while its ~1.6 MB text must stay alive; a scavenge that falls in that span (most of them with the 8 MiB
 * semi-spaces of the launch line) promoted the text, and large old objects are freed only by a full
 * collection: 1.5 MB of garbage a page, 15 MiB of the peak of a 100,000-event run. Emptied just before, the
 * young generation takes the whole parse; the scavenge itself finds little alive (the last page is encoded and
 * its rows dead) and stands in for one the parse would have caused. `gc` is V8's own, reached from a fresh
 * context, as the SDK's idle collection reaches it (the process needs no flag); where it cannot be had this
 * does nothing.
 */
export function emptyYoungGeneration(): void {
  if (scavenge === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      scavenge = runInNewContext('gc') as Scavenge;
    } catch {
      scavenge = null;
    }
  }
  scavenge?.({ type: 'minor', execution: 'sync' });
}
