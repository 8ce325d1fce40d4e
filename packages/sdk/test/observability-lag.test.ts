import { describe, expect, it } from 'vitest';
import { checkpointTimeOf, conventionalCheckpointTime, formatDuration } from '@collector/sdk/host';

const T = Date.UTC(2024, 5, 24, 6, 0, 0);

describe('lag: the time a checkpoint stands for', () => {
  it('reads the conventional shapes', () => {
    expect(conventionalCheckpointTime('2024-06-24T06:00:00Z')?.getTime()).toBe(T);
    expect(conventionalCheckpointTime('2024-06-24T06:00:00')?.getTime()).toBe(T); // no zone = UTC
    expect(conventionalCheckpointTime('2024-06-24T08:00:00+02:00')?.getTime()).toBe(T);
    expect(conventionalCheckpointTime(T)?.getTime()).toBe(T); // epoch ms
    expect(conventionalCheckpointTime(T / 1000)?.getTime()).toBe(T); // epoch s
    expect(conventionalCheckpointTime(String(T))?.getTime()).toBe(T);
    expect(conventionalCheckpointTime({ end: T })?.getTime()).toBe(T);
    expect(conventionalCheckpointTime({ start_time: '2024-06-24T06:00:00Z', page: 3 })?.getTime()).toBe(T);
    expect(conventionalCheckpointTime({ cursor: '2024-06-24T06:00:00Z' })?.getTime()).toBe(T);
  });

  it('reports no time for shapes that are not times', () => {
    for (const value of [null, undefined, 42, 'abc', '', { page_token: 'x' }, ['2024-06-24T06:00:00Z'], true]) {
      expect(conventionalCheckpointTime(value)).toBeUndefined();
    }
  });

  it('prefers the service hook and survives a throwing one', () => {
    expect(checkpointTimeOf({ latest: T / 1000 }, (c: { latest: number }) => new Date(c.latest * 1000))?.getTime()).toBe(T);
    expect(checkpointTimeOf({ end: T }, () => undefined)).toBeUndefined(); // a queue says: no lag
    expect(
      checkpointTimeOf({ end: T }, () => {
        throw new Error('bad');
      }),
    ).toBeUndefined();
    expect(checkpointTimeOf({ end: T }, () => new Date(Number.NaN))).toBeUndefined();
  });

  it('formats durations for people', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(13 * 60_000 + 5_000)).toBe('13 min');
    expect(formatDuration(2 * 3_600_000 + 13 * 60_000)).toBe('2 h 13 min');
    expect(formatDuration(3 * 3_600_000)).toBe('3 h');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 59 * 60_000)).toBe('3 d 4 h');
    expect(formatDuration(-5)).toBe('0 s');
  });
});
