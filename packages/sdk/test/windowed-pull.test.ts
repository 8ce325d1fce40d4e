import { describe, expect, it } from 'vitest';
import { historicFloorAt, planWindows, pullWindows, type PullBatch, type TimeWindow, type WindowClamp, type WindowEnd, type WindowPolicy } from '../src/index.js';

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

describe('pullWindows: hooks, declared lines, windows that end short', () => {
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  /** Runs the engine over 3 one-hour windows (09:00–12:00); `fetch` gets each window, the runtime's counters are faked. */
  async function run(extra: Partial<WindowPolicy<Cp>>, fetch: (w: TimeWindow) => AsyncGenerator<string[], WindowEnd | void>, checkpoint?: Cp, clock = () => now) {
    const logs: string[] = [];
    const stats = { requests: 0, received: 0, duplicates: 0, sent: 0 };
    const batches: PullBatch<Cp>[] = [];
    const ctx = { now: clock, signal: new AbortController().signal, log: { info: (l: string) => logs.push(l) }, stats };
    const p = policy({ initialStart: new Date('2026-03-10T09:00:00Z'), alignMs: 1000, ...extra });
    for await (const batch of pullWindows(ctx, checkpoint, p, async function* (w) {
      stats.requests++;
      return yield* fetch(w);
    })) {
      // What the runtime does: count what it received; by the checkpoint every event was sent.
      stats.received += batch.events.length;
      if (batch.checkpoint) stats.sent = stats.received;
      batches.push(batch);
    }
    return { logs, batches, checkpoints: batches.filter((b) => b.checkpoint).map((b) => hhmm(new Date(b.checkpoint!.end))) };
  }

  it("logs the service's lines with each window's share of the counters, after its commit", async () => {
    const { logs, checkpoints } = await run(
      { pinStart: true, lines: { window: (w) => `window ${hhmm(w.start)}`, summary: (w, c) => `summary ${hhmm(w.end)}: ${c.requests} request(s), ${c.sent} sent`, committed: (cp) => [`saved ${cp.end.slice(11, 16)}`], pinned: (cp) => `pinned ${cp.end.slice(11, 16)}`, upToDate: 'up to date' } },
      async function* (w) {
        if (hhmm(w.start) === '10:00') yield ['a', 'b'];
      },
    );
    expect(checkpoints).toEqual(['09:00', '10:00', '11:00', '12:00']);
    expect(logs).toEqual(['pinned 09:00', 'window 09:00', 'summary 10:00: 1 request(s), 0 sent', 'saved 10:00', 'window 10:00', 'summary 11:00: 1 request(s), 2 sent', 'saved 11:00', 'window 11:00', 'summary 12:00: 1 request(s), 0 sent', 'saved 12:00', 'up to date']);
  });

  it('a window the source answered only in part commits what it reached and ends the pull; an unfinished one commits nothing', async () => {
    const short = await run({ lines: { upToDate: 'up to date' } }, async function* (w) {
      yield ['x'];
      if (hhmm(w.start) === '10:00') return { reached: new Date('2026-03-10T10:20:00Z') };
    });
    expect(short.checkpoints).toEqual(['10:00', '10:20']);
    expect(short.logs).toEqual([]);
    const stopped = await run({}, async function* (w) {
      yield ['y'];
      if (hhmm(w.start) === '10:00') return { unfinished: true };
    });
    expect(stopped.checkpoints).toEqual(['10:00']);
    expect(stopped.batches.filter((b) => b.events.length > 0)).toHaveLength(2);
  });

  it('beforeWindow can stop the pull, and the historic floor is checked again after it; stretchToMinSpan widens a short window', async () => {
    const fetched: string[] = [];
    const fetch = async function* (w: TimeWindow) {
      fetched.push(`${hhmm(w.start)}-${hhmm(w.end)}`);
    };
    const stop = await run({ beforeWindow: (_w, n) => n < 2 }, fetch);
    expect(stop.checkpoints).toEqual(['10:00', '11:00']);
    // The clock jumps while the first window waits: the floor (now − 2 h 50 min) passes the later windows' starts.
    fetched.length = 0;
    const clamps: WindowClamp[] = [];
    let clock = now;
    await run({ historicFloor: (at) => new Date(at.getTime() - 170 * 60_000), minSpanMs: 20 * 60_000, onClamp: (c) => clamps.push(c), beforeWindow: () => ((clock = new Date(now.getTime() + 100 * 60_000)), true) }, fetch, undefined, () => clock);
    // Planned from the floor at 09:10: 09:10-10:10, 10:10-11:10, 11:10-12:00. After the wait the floor is
    // 10:50: the first window is past it (skipped), the second starts at it.
    expect(fetched).toEqual(['10:50-11:10', '11:10-12:00']);
    expect(clamps.map((c) => `${c.source} ${hhmm(c.wanted)}->${hhmm(c.floor)}`)).toEqual(['initial 09:00->09:10', 'window 09:10->10:50']);
    // 50-minute windows leave 30 minutes at the end; an API that refuses less than 40 gets 11:20-12:00.
    fetched.length = 0;
    await run({ maxSpanMs: 50 * 60_000, minSpanMs: 40 * 60_000, stretchToMinSpan: true }, fetch);
    expect(fetched).toEqual(['09:00-09:50', '09:50-10:40', '10:40-11:30', '11:20-12:00']);
  });
});
