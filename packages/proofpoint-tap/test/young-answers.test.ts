import { afterEach, describe, expect, it, vi } from 'vitest';
import { LARGE_PAGE_CHARS } from '@collector/sdk';
import { closeAll, config, HOUR, isoAgo, runOnce, simulator, workDir } from './helpers.js';

/** What each scavenge the services ask for saw: how many SIEM requests the simulator had answered by then. */
const probe = vi.hoisted(() => ({ answeredAtScavenge: [] as number[], answered: (): number => 0 }));
vi.mock('@collector/sdk', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@collector/sdk')>()),
  collectYoungGeneration: () => void probe.answeredAtScavenge.push(probe.answered()),
}));

afterEach(closeAll);

describe("proofpoint_tap: a large window's answer is scanned in an emptied young generation", () => {
  it('asks V8 for a scavenge after a large answer arrived and before its records are read, and none for small answers', async () => {
    const sim = await simulator();
    // One window holds ~1,000 records (over LARGE_PAGE_CHARS of JSON), the others a few each.
    const now = Date.now();
    sim.generate({ service: 'messagesDelivered', count: 1000, from: now - 3 * HOUR + 60_000, to: now - 3 * HOUR + 30 * 60_000 });
    sim.generate({ service: 'messagesDelivered', count: 10, from: now - 2 * HOUR + 60_000, to: now - 3 * 60_000 });
    probe.answered = () => sim.requests.filter((r) => r.path.startsWith('/v2/siem/')).length;
    const cfg = config(sim, { services: { messagesDelivered: { start_time_in_utc_format: isoAgo(3 * HOUR) } } });
    const run = await runOnce(workDir(), cfg);
    expect(run.out.records).toHaveLength(1010);
    expect(probe.answered()).toBeGreaterThanOrEqual(3);
    // The first window's answer is the large one: one scavenge, after it was answered and before the next
    // request; the small answers of the later windows, none.
    expect(probe.answeredAtScavenge).toEqual([1]);
    expect(LARGE_PAGE_CHARS).toBeLessThan(1000 * 1000);
  });
});
