import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { defineCollector, defineInput, defineService } from '@collector/sdk';
import { CollectorRuntime } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';
import { countJournaledKeys } from './journaled-keys.js';

interface Row {
  id: string;
}

/** An output that acknowledges each write `delayMs` after it began, counting the events handed to it. */
class SlowOutput extends CapturingOutput {
  handed = 0;

  constructor(private readonly delayMs: number) {
    super('slow');
  }

  override async write(records: Parameters<CapturingOutput['write']>[0], service?: Parameters<CapturingOutput['write']>[1]): Promise<void> {
    this.handed += records.length;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    await super.write(records, service);
  }
}

/**
 * A paged service with dedup keys (one batch in flight at a time): before it asks for each page after the
 * first, it notes how many events the output had been handed by then.
 */
function pagedCollector(pages: number, perPage: number, handedAtRequest: number[], out: SlowOutput) {
  return defineCollector({
    name: 'prefetch_collector',
    version: '0.0.1',
    inputs: [
      defineInput({
        name: 'paged',
        setup: async () => ({}),
        services: {
          events: defineService<unknown, Record<string, unknown>, number>({
            tag: 'my.app.paged.events',
            dedupKey: (r: Row) => r.id,
            async *pull() {
              for (let i = 0; i < pages; i++) {
                if (i > 0) {
                  handedAtRequest.push(out.handed);
                  // The request takes a few turns of the event loop, as a fetch does.
                  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
                }
                yield { events: Array.from({ length: perPage }, (_, n): Row => ({ id: `p${i}-${n}` })), ...(i === pages - 1 ? { checkpoint: i } : {}) };
              }
            },
          }),
        },
      }),
    ],
  });
}

describe('the runner and pages of several batches', () => {
  it('asks for the next page while the page before is still being sent, one batch unjournaled at most and four batches queued at most', async () => {
    // Pages of four batches (1000 events, delivery_batch_max_messages 250), 30 ms a write. Waiting until less
    // than a batch of a page is left kept the output idle for the whole fetch of the next page.
    const pages = 5;
    const perPage = 1000;
    const batch = 250;
    const out = new SlowOutput(30);
    const handedAtRequest: number[] = [];
    const workDir = mkdtempSync(join(tmpdir(), 'runner-prefetch-'));
    const config = { globals: { http_server: { enabled: false }, delivery_batch_max_messages: batch }, inputs: { paged: { id: 1, services: { events: {} } } } };
    const runtime = new CollectorRuntime(pagedCollector(pages, perPage, handedAtRequest, out), { workDir, config, outputs: [out], logStream: new PassThrough() });
    const journaled = countJournaledKeys(runtime);
    const journaledAtWrite: { handedBefore: number; journaled: number }[] = [];
    const write = out.write.bind(out);
    out.write = async (records, service) => {
      journaledAtWrite.push({ handedBefore: out.handed, journaled: journaled.count });
      await write(records, service);
    };
    const summary = await runtime.runOnce();
    expect(summary.ok).toBe(true);
    expect(out.ids()).toEqual(Array.from({ length: pages * perPage }, (_, n) => `p${Math.floor(n / perPage)}-${n % perPage}`));
    expect(handedAtRequest).toHaveLength(pages - 1);
    handedAtRequest.forEach((handed, i) => {
      const queued = (i + 1) * perPage; // every event of the pages before was queued by then
      // At least two batches of the page before were not handed to the output yet...
      expect(queued - handed).toBeGreaterThanOrEqual(2 * batch);
      // ...and no more than four batches waited (the queue's bound after a page of several batches).
      expect(queued - handed).toBeLessThanOrEqual(4 * batch);
    });
    // Every write began once every event written before it was journaled: one batch unjournaled at most.
    expect(journaledAtWrite.length).toBeGreaterThanOrEqual((pages * perPage) / batch);
    for (const w of journaledAtWrite) expect(w.journaled).toBe(w.handedBefore);
  });
});
