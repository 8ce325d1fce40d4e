import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAll, config, HOUR, isoAgo, runOnce, simulator, workDir } from './helpers.js';

// A window's answer and records must not stay reachable from the request's promises once the runner encoded
// them: those promises are made before the answer and V8 may promote them while the request waits, and an old
// holder keeps a 3 MB text alive through every scavenge (the SDK's http-young-body test shows the heap side).
// Here: the service lets go of each answer's text (`releaseText`), and hands the records over in a new array,
// leaving the one `fetchSiemWindow` returned (which its promise holds) empty.

const seen = vi.hoisted(() => ({ released: [] as { length: number; response: { text: string } }[], windows: [] as unknown[][] }));
vi.mock('@collector/sdk', async (importOriginal) => {
  const sdk = await importOriginal<typeof import('@collector/sdk')>();
  return {
    ...sdk,
    releaseText: (response: { text: string }) => {
      seen.released.push({ length: response.text.length, response });
      sdk.releaseText(response as Parameters<typeof sdk.releaseText>[0]);
    },
  };
});
vi.mock('../src/client.js', async (importOriginal) => {
  const client = await importOriginal<typeof import('../src/client.js')>();
  return {
    ...client,
    fetchSiemWindow: async (...args: Parameters<typeof client.fetchSiemWindow>) => {
      const window = await client.fetchSiemWindow(...args);
      seen.windows.push(window.events);
      return window;
    },
  };
});

afterEach(closeAll);

describe('proofpoint_tap: what the request\'s promises hold once a window is handed over', () => {
  it('lets go of every answer\'s text and empties the records array the fetch returned', async () => {
    const sim = await simulator();
    const now = Date.now();
    sim.generate({ service: 'messagesDelivered', count: 300, from: now - 3 * HOUR + 60_000, to: now - 2 * HOUR - 60_000 });
    sim.generate({ service: 'messagesDelivered', count: 5, from: now - 2 * HOUR + 60_000, to: now - 3 * 60_000 });
    const cfg = config(sim, { services: { messagesDelivered: { start_time_in_utc_format: isoAgo(3 * HOUR) } } });
    const run = await runOnce(workDir(), cfg);
    expect(run.out.records).toHaveLength(305);
    const answered = sim.requests.filter((r) => r.path.startsWith('/v2/siem/')).length;
    expect(answered).toBeGreaterThanOrEqual(3);
    // Every answer with a body was released after it was read (its text was there then, and is gone now).
    expect(seen.released.length).toBeGreaterThanOrEqual(2);
    expect(seen.released.some((r) => r.length > 100_000)).toBe(true);
    for (const r of seen.released) expect(r.response.text).toBe('');
    // The arrays fetchSiemWindow returned held the records once; all are empty now, their records delivered.
    expect(seen.windows.length).toBe(answered);
    for (const events of seen.windows) expect(events).toHaveLength(0);
  });
});
