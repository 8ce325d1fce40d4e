/**
 * mulberry32: a tiny, fast, reproducible pseudo-random generator for simulated data. The same seed gives the
 * same events on every machine, so tests, the demo and benchmarks can name the events they expect.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
