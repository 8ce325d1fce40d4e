import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { pullWindows, type WindowPolicy } from '../src/index.js';

// Texts of pages a scavenge promoted to V8's old large-object space are freed only by a full collection, which V8
// leaves for seconds in a pull: the window engine asks for one between two pages once they pile up.

const calls = vi.hoisted(() => ({ major: 0, minor: 0 }));
vi.mock('../src/runtime/exposed-gc.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/runtime/exposed-gc.js')>();
  return {
    ...real,
    exposedGc: () => {
      const gc = real.exposedGc();
      if (!gc) return null;
      return (options?: Parameters<typeof gc>[0]) => {
        if (options?.type === 'major') calls.major++;
        else calls.minor++;
        gc(options);
      };
    },
  };
});

const HOUR = 3_600_000;
const start = new Date('2026-03-10T00:00:00.000Z');
const policy: WindowPolicy<{ end: string }> = {
  initialStart: start,
  resumeAt: (c) => new Date(c.end),
  checkpointAt: (end) => ({ end: end.toISOString() }),
  maxSpanMs: HOUR,
};
const oldLargeBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'large_object_space')!.space_size;

/** Pulls 12 one-hour windows of one page each; `promote` makes each page leave ~2 MB of promoted text behind. */
async function pull(promote: boolean): Promise<{ maxOldLarge: number }> {
  const { exposedGc } = await import('../src/runtime/exposed-gc.js');
  const gc = exposedGc()!;
  let maxOldLarge = 0;
  const ctx = { now: () => new Date(start.getTime() + 12 * HOUR), signal: new AbortController().signal };
  const windows = pullWindows(ctx, undefined, policy, async function* (window) {
    // A page's text (a large object) that survives scavenges while it is read: promoted, then garbage.
    // (trim() flattens the rope that repeat() and + make into one 2 MB string.)
    let text: string | undefined = ` ${'x'.repeat(2_000_000)}${window.start.toISOString()} `.trim();
    if (promote) gc({ type: 'minor', execution: 'sync' });
    yield [text.length];
    text = undefined;
  });
  for await (const batch of windows) {
    void batch;
    maxOldLarge = Math.max(maxOldLarge, oldLargeBytes());
  }
  return { maxOldLarge };
}

describe('pullWindows: garbage in the old large-object space', () => {
  it('asks for a full collection between pages once promoted page texts pile up, and keeps them bounded', async () => {
    calls.major = 0;
    const { maxOldLarge } = await pull(true);
    // 12 pages x 2 MB promoted: without a full collection the space would hold all of them.
    expect(calls.major).toBeGreaterThanOrEqual(2);
    expect(maxOldLarge).toBeLessThan(16 * 1024 * 1024);
  });

  it('asks for one once a few state-save-sized texts (0.8 MB) were promoted, not only whole pages', async () => {
    // Four 0.8 MB texts promoted between pages (a state save's joined keys is this size): 3.2 MiB, over the
    // 2 MiB the engine allows (it allowed 6 before wave 13, when most of it was page texts).
    const { exposedGc } = await import('../src/runtime/exposed-gc.js');
    const gc = exposedGc()!;
    gc({ type: 'major', execution: 'sync' });
    calls.major = 0;
    const ctx = { now: () => new Date(start.getTime() + 4 * HOUR), signal: new AbortController().signal };
    const windows = pullWindows(ctx, undefined, policy, async function* (window) {
      // Alive while a scavenge runs (as a save's keys during its write): promoted, then garbage.
      const text = ` ${'s'.repeat(800_000)}${window.start.toISOString()} `.trim();
      gc({ type: 'minor', execution: 'sync' });
      yield [text.length];
    });
    for await (const batch of windows) void batch;
    expect(calls.major).toBeGreaterThanOrEqual(1);
  });

  it('asks for none while pages die young', async () => {
    calls.major = 0;
    await pull(false);
    expect(calls.major).toBe(0);
  });
});
