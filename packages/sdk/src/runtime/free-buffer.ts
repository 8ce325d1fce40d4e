/**
 * Gives an ArrayBuffer's memory back now, not at the next full collection: detaching it (`transfer(0)`) frees
 * its backing store at once. The SDK's batch, framing and dedup buffers are 0.25–4 MiB, each a mapping of its
 * own under the launch lines' `MALLOC_MMAP_THRESHOLD_`, while their small JS owners are promoted within a
 * scavenge or two: a dropped one stayed resident until a mark-compact (3–9 MiB of Proofpoint's peak RSS,
 * docs/benchmarks.md, wave 11). Only for a buffer its caller allocated whole (never a slice of Node's pool) and
 * that nothing reads any more: a view of it reads as empty afterwards.
 */
export function freeArrayBuffer(buffer: ArrayBufferLike): void {
  (buffer as ArrayBuffer & { transfer(length?: number): ArrayBuffer }).transfer(0);
}

/**
 * Takes the spare for a new buffer of `size` bytes out of `spares`: the smallest that holds `size`, else the
 * largest one, smaller (its caller reuses it when it still serves, or frees it: a spare too small for the
 * batches of the moment is never left aside beside a new buffer, so the spares never outnumber the buffers in
 * use at once); undefined when there is none. The batch queue's and the stream output's pools both pick so.
 */
export function takeSpare<T>(spares: T[], size: number, sizeOf: (spare: T) => number): T | undefined {
  let fit = -1;
  let largest = -1;
  for (let i = 0; i < spares.length; i++) {
    const bytes = sizeOf(spares[i]!);
    if (bytes >= size && (fit === -1 || bytes < sizeOf(spares[fit]!))) fit = i;
    if (largest === -1 || bytes > sizeOf(spares[largest]!)) largest = i;
  }
  const at = fit !== -1 ? fit : largest;
  return at === -1 ? undefined : spares.splice(at, 1)[0];
}
