import { afterEach, describe, expect, it, vi } from 'vitest';
import { LARGE_PAGE_CHARS } from '@collector/sdk';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, newWorkDir, runOnce, simulator, TAGS, utc } from './helpers.js';

/** What each scavenge the services ask for saw: how many /modelbreaches requests the simulator had answered by then. */
const probe = vi.hoisted(() => ({ answeredAtScavenge: [] as number[], answered: (): number => 0 }));
vi.mock('@collector/sdk', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@collector/sdk')>()),
  collectYoungGeneration: () => void probe.answeredAtScavenge.push(probe.answered()),
}));

afterEach(closeSimulators);

describe('darktrace: a large page is scanned in an emptied young generation', () => {
  it('asks V8 for a scavenge after a large page arrived and before the next request, and none for small pages', async () => {
    // The first hour's slot: ~900 breaches in one page (over LARGE_PAGE_CHARS); the next hour a few.
    const start = hoursAgo(3);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(2), everyMs: 4_000 } });
    const pages = () => sim.requests.filter((r) => r.path === '/modelbreaches' && r.status === 200);
    probe.answered = () => pages().length;
    const config = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(start) } });
    const { delivered } = await runOnce(newWorkDir(), config);
    expect(delivered(TAGS.modelbreaches).length).toBeGreaterThan(800);
    expect(pages().length).toBeGreaterThanOrEqual(2);
    expect(LARGE_PAGE_CHARS).toBeLessThan(800 * 800);
    // One scavenge, for the large page only, once it was answered.
    expect(probe.answeredAtScavenge).toEqual([1]);
  });
});
