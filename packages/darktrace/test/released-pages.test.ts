import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, newWorkDir, runOnce, simulator, TAGS, utc } from './helpers.js';

// A page's text and records must not stay reachable from the request's promises once the runner encoded them:
// those promises are made before the answer and V8 may promote them while the request waits, and an old holder
// keeps a megabyte text alive through every scavenge (the SDK's http-young-body test shows the heap side).
// Here: the client lets go of each page's text (`releaseText`), and the slots hand the records over in a new
// array, leaving the one `getRecords` returned (which the fetch's promises hold) empty.

const seen = vi.hoisted(() => ({ released: [] as { length: number; response: { text: string } }[], pages: [] as unknown[][] }));
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
  const module = await importOriginal<typeof import('../src/client.js')>();
  class RecordingClient extends module.DarktraceClient {
    override async getRecords(...args: Parameters<InstanceType<typeof module.DarktraceClient>['getRecords']>): Promise<unknown[]> {
      const records = await super.getRecords(...args);
      seen.pages.push(records);
      return records;
    }
  }
  return { ...module, DarktraceClient: RecordingClient };
});

afterEach(closeSimulators);

describe('darktrace: what the request\'s promises hold once a page is handed over', () => {
  it('lets go of every page\'s text and empties the records array getRecords returned', async () => {
    const start = hoursAgo(3);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(2), everyMs: 20_000 } });
    const config = darktraceConfig(credentialsFor(sim), { modelbreaches: { start_time_in_utc_format: utc(start) } });
    const { delivered } = await runOnce(newWorkDir(), config);
    const pages = sim.requests.filter((r) => r.path === '/modelbreaches' && r.status === 200).length;
    expect(delivered(TAGS.modelbreaches).length).toBeGreaterThan(150);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(seen.released.length).toBe(pages);
    expect(seen.released.some((r) => r.length > 10_000)).toBe(true);
    for (const r of seen.released) expect(r.response.text).toBe('');
    expect(seen.pages.length).toBe(pages);
    for (const records of seen.pages) expect(records).toHaveLength(0);
  });
});
