import { describe, expect, it } from 'vitest';
import { backoffDelay } from '@collector/sdk/host';

describe('backoffDelay: the one jittered exponential back-off', () => {
  const policy = { initialMs: 100, maxMs: 1_000 };

  it('doubles from the initial wait up to the cap, half of each step at random by default', () => {
    const low = () => 0;
    const high = () => 1 - Number.EPSILON;
    expect([0, 1, 2, 3, 4, 10, 1_000].map((a) => backoffDelay(a, policy, low))).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect([0, 1, 2, 3, 4, 10].map((a) => Math.round(backoffDelay(a, policy, high)))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('spreads replicas that failed together: 100 of them do not retry at the same moment', () => {
    const waits = Array.from({ length: 100 }, () => backoffDelay(5, { initialMs: 2_000, maxMs: 60_000 }));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(30_000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(60_000);
    expect(new Set(waits.map((w) => Math.floor(w / 1_000))).size).toBeGreaterThan(10);
  });

  it('takes the jitter share as configured (0 = fixed waits, 1 = anywhere in [0, step])', () => {
    expect(backoffDelay(2, { ...policy, jitter: 0 }, () => 0.9)).toBe(400);
    expect(backoffDelay(2, { ...policy, jitter: 1 }, () => 0.25)).toBe(100);
  });
});
