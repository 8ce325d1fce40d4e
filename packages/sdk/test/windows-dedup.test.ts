import { describe, expect, it } from 'vitest';
import { DedupWindow, resumeFrom, timeWindows } from '@collector/sdk';

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
  it('resumes at the checkpoint minus the overlap, never before the configured start', () => {
    const start = new Date('2024-01-01T00:00:00Z');
    expect(resumeFrom(undefined, start, 600_000)).toEqual(start);
    expect(resumeFrom(new Date('2024-01-01T01:00:00Z'), start, 600_000).toISOString()).toBe('2024-01-01T00:50:00.000Z');
    expect(resumeFrom(new Date('2024-01-01T00:05:00Z'), start, 600_000)).toEqual(start);
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
