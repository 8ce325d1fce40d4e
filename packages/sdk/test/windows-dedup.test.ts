import { describe, expect, it } from 'vitest';
import { planWindows, pullWindows, type WindowPolicy } from '@collector/sdk';
import { DedupWindow, timeWindows } from '@collector/sdk/host';

describe('timeWindows', () => {
  const now = new Date('2024-01-02T00:00:00Z');
  it('splits [from, now - delay] into windows of at most maxSpan, numbered for the slot log lines', () => {
    const windows = [...timeWindows({ from: new Date('2024-01-01T20:30:00Z'), maxSpanMs: 3_600_000, delayMs: 1_800_000, now })];
    expect(windows.map((w) => [w.start.toISOString(), w.end.toISOString(), w.index, w.total])).toEqual([
      ['2024-01-01T20:30:00.000Z', '2024-01-01T21:30:00.000Z', 1, 3],
      ['2024-01-01T21:30:00.000Z', '2024-01-01T22:30:00.000Z', 2, 3],
      ['2024-01-01T22:30:00.000Z', '2024-01-01T23:30:00.000Z', 3, 3],
    ]);
  });
  it('yields nothing when caught up', () => {
    expect([...timeWindows({ from: new Date(now.getTime() - 500), maxSpanMs: 60_000, now })]).toEqual([]);
  });
});

describe('windowed pulling (the SDK owns resume, look-back, floor, slicing and commits)', () => {
  const now = new Date('2024-01-02T00:00:00Z');
  const iso = (d: Date) => d.toISOString().slice(11, 16);
  type Cp = { end: string };
  const policy = (extra: Partial<WindowPolicy<Cp>> = {}): WindowPolicy<Cp> => ({
    initialStart: new Date('2024-01-01T20:00:00Z'),
    floor: new Date('2024-01-01T20:00:00Z'),
    resumeAt: (c) => new Date(c.end),
    checkpointAt: (end) => ({ end: end.toISOString() }),
    lookbackMs: 600_000,
    maxSpanMs: 3_600_000,
    ...extra,
  });
  const spans = (plan: ReturnType<typeof planWindows>) => plan.windows.map((w) => `${iso(w.start)}-${iso(w.end)}`);

  it('starts at the initial start, then at the checkpoint minus the look-back, never before the floor', () => {
    expect(spans(planWindows(policy(), undefined, now))).toEqual(['20:00-21:00', '21:00-22:00', '22:00-23:00', '23:00-00:00']);
    expect(spans(planWindows(policy(), { end: '2024-01-01T23:00:00Z' }, now))).toEqual(['22:50-23:50', '23:50-00:00']);
    expect(spans(planWindows(policy(), { end: '2024-01-01T20:05:00Z' }, now))[0]).toBe('20:00-21:00');
  });

  it('reads the look-back again as one window in reread mode, and aligns bounds', () => {
    const plan = planWindows(policy({ lookbackMode: 'reread', alignMs: 60_000 }), { end: '2024-01-01T23:00:30Z' }, now);
    expect(plan.reread && `${iso(plan.reread.start)}-${iso(plan.reread.end)}`).toBe('22:50-23:00');
    expect(spans(plan)).toEqual(['23:00-00:00']);
  });

  it("yields each page at once and each window's checkpoint after its last page", async () => {
    const pages: Record<string, string[][]> = { '22:50': [['a', 'b'], ['c']], '23:50': [] };
    const batches = [];
    for await (const batch of pullWindows({ now: () => now, signal: new AbortController().signal }, { end: '2024-01-01T23:00:00Z' }, policy(), async function* (w) {
      yield* pages[iso(w.start)] ?? [];
    })) batches.push(batch);
    expect(batches).toEqual([
      { events: ['a', 'b'] },
      { events: ['c'] },
      { events: [], checkpoint: { end: '2024-01-01T23:50:00.000Z' } },
      { events: [], checkpoint: { end: '2024-01-02T00:00:00.000Z' } },
    ]);
  });
});

describe('DedupWindow', () => {
  it('forgets the oldest keys beyond its capacity and round-trips through JSON', () => {
    const w = new DedupWindow(3, ['a', 'b']);
    w.add('c');
    w.add('b');
    w.add('d');
    expect(w.has('a')).toBe(false);
    expect(w.toJSON()).toEqual(['b', 'c', 'd']);
    expect(new DedupWindow(3, w.toJSON()).has('c')).toBe(true);
  });
});
