import { describe, expect, it } from 'vitest';
import { historicFloorAt, planWindows, type WindowClamp, type WindowPolicy } from '../src/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = new Date('2026-03-10T12:00:00.400Z');

type Cp = { end: string; asked?: string };
function policy(extra: Partial<WindowPolicy<Cp>> = {}): WindowPolicy<Cp> {
  return {
    initialStart: new Date(now.getTime() - HOUR),
    resumeAt: (c) => new Date(c.end),
    checkpointAt: (end) => ({ end: end.toISOString() }),
    maxSpanMs: HOUR,
    ...extra,
  };
}

describe('planWindows: historic floor, look-back base, whole windows', () => {
  it('moves every kind of start up to a floor that moves with now, and says so through onClamp', () => {
    const clamps: WindowClamp[] = [];
    const p = policy({ historicFloor: (at) => new Date(at.getTime() - 7 * DAY), onClamp: (c) => clamps.push(c), alignMs: 1000, lookbackMs: HOUR });
    const floor = new Date('2026-03-03T12:00:00.000Z');
    expect(historicFloorAt(p, now)).toBe(floor.getTime());

    const initial = planWindows({ ...p, initialStart: new Date(now.getTime() - 30 * DAY) }, undefined, now);
    expect(initial.start).toEqual(floor);
    const startAt = planWindows(p, undefined, now, new Date(now.getTime() - 8 * DAY));
    expect(startAt.start).toEqual(floor);
    const resumed = planWindows(p, { end: new Date(now.getTime() - 9 * DAY).toISOString() }, now);
    expect(resumed.start).toEqual(floor);
    // Only the look-back reaches past the floor: clamped too, the hook is told what the checkpoint was.
    const lookbackOnly = planWindows(p, { end: new Date(floor.getTime() + 60_000).toISOString() }, now);
    expect(lookbackOnly.start).toEqual(floor);

    expect([initial.source, startAt.source, resumed.source]).toEqual(['initial', 'start-at', 'checkpoint']);
    expect(clamps.map((c) => c.source)).toEqual(['initial', 'start-at', 'checkpoint', 'checkpoint']);
    expect(clamps.every((c) => c.floor.getTime() === floor.getTime())).toBe(true);
    expect(clamps[1]!.wanted).toEqual(new Date(now.getTime() - 8 * DAY - HOUR));
    expect(clamps[2]!.resumed).toEqual(new Date(now.getTime() - 9 * DAY));
    expect(clamps[3]!.resumed).toEqual(new Date(floor.getTime() + 60_000));
    // Windows start at the floor and join up to now.
    expect(resumed.windows[0]!.start).toEqual(floor);
    expect(resumed.windows.at(-1)!.end).toEqual(new Date('2026-03-10T12:00:00.000Z'));
  });

  it('does not call onClamp when the start is inside the floor', () => {
    const clamps: WindowClamp[] = [];
    planWindows(policy({ historicFloor: (at) => new Date(at.getTime() - 7 * DAY), onClamp: (c) => clamps.push(c) }), undefined, now);
    expect(clamps).toEqual([]);
  });

  it('measures the look-back from lookbackFrom when the vendor gives one, and never past the checkpoint', () => {
    const end = new Date(now.getTime() - 2 * HOUR);
    const p = policy({ lookbackMs: 10 * 60_000, lookbackFrom: (c) => (c.asked ? new Date(c.asked) : undefined) });
    // Asked 30 min after the window ended: the look-back from then does not reach before the checkpoint.
    expect(planWindows(p, { end: end.toISOString(), asked: new Date(end.getTime() + 30 * 60_000).toISOString() }, now).start).toEqual(end);
    // Asked right at the end: the pull re-reads the 10 minutes before it.
    expect(planWindows(p, { end: end.toISOString(), asked: end.toISOString() }, now).start).toEqual(new Date(end.getTime() - 10 * 60_000));
    // Without it: measured from the checkpoint.
    expect(planWindows(p, { end: end.toISOString() }, now).start).toEqual(new Date(end.getTime() - 10 * 60_000));
  });

  it('wholeWindows cuts only full windows and leaves the rest for a later cycle', () => {
    const p = policy({ maxSpanMs: 15 * 60_000, wholeWindows: true, initialStart: new Date(now.getTime() - 50 * 60_000) });
    const plan = planWindows(p, undefined, now);
    expect(plan.windows.map((w) => w.end.getTime() - w.start.getTime())).toEqual([15 * 60_000, 15 * 60_000, 15 * 60_000]);
    expect(planWindows({ ...p, initialStart: new Date(now.getTime() - 10 * 60_000) }, undefined, now).windows).toEqual([]);
    // The plan still says where the pull starts when no window is due.
    expect(planWindows({ ...p, initialStart: new Date(now.getTime() - 10 * 60_000) }, undefined, now).start).toEqual(new Date(now.getTime() - 10 * 60_000));
  });
});
