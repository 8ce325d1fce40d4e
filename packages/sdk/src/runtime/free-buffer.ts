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
