import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAll, config, HOUR, isoAgo, runOnce, simulator, workDir } from './helpers.js';

/** What each scavenge the services ask for saw: how many SIEM requests the simulator had answered by then. */
const probe = vi.hoisted(() => ({ answeredAtScavenge: [] as number[], answered: (): number => 0 }));
vi.mock('@collector/sdk', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@collector/sdk')>()),
  collectYoungGeneration: () => void probe.answeredAtScavenge.push(probe.answered()),
}));

afterEach(closeAll);

describe('proofpoint_tap: a window\'s answer arrives in an emptied young generation', () => {
  it('asks V8 for a scavenge before each SIEM request (so the answer, flattened young, dies young)', async () => {
    const sim = await simulator();
    sim.generate({ service: 'messagesDelivered', count: 30, from: Date.now() - 3 * HOUR, to: Date.now() - 3 * 60_000 });
    probe.answered = () => sim.requests.filter((r) => r.path.startsWith('/v2/siem/')).length;
    const cfg = config(sim, { services: { messagesDelivered: { start_time_in_utc_format: isoAgo(3 * HOUR + 60_000) } } });
    const run = await runOnce(workDir(), cfg);
    expect(run.out.records).toHaveLength(30);
    const asked = probe.answered();
    expect(asked).toBeGreaterThanOrEqual(3);
    // One scavenge before each request, none of them after it was answered.
    expect(probe.answeredAtScavenge).toEqual(Array.from({ length: asked }, (_, i) => i));
  });
});
