import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { defineCollector, defineInput, defineService, pullWindows } from '@collector/sdk';
import { CollectorRuntime, DEFAULT_BATCH_MESSAGES } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface PageRecord {
  id: string;
  body: string;
}

/**
 * A service whose generator notes, while it "fetches" each page after the first, whether the page before was
 * collected: by then the runner has encoded and queued it, so nothing of the runner may hold it any more.
 */
function pagedCollector(pages: number, perPage: number, heldWhileFetching: boolean[], windowed = false, refs: WeakRef<PageRecord[]>[] = []) {
  const page = (index: number): PageRecord[] => {
    const records = Array.from({ length: perPage }, (_, i) => ({ id: `p${index}-${i}`, body: 'x'.repeat(200) }));
    refs.push(new WeakRef(records));
    return records;
  };
  const fetching = async (index: number): Promise<void> => {
    // A fetch takes a few turns of the event loop: the runner's own awaits settle meanwhile.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    gc();
    heldWhileFetching.push(refs[index - 1]!.deref() !== undefined);
  };
  return defineCollector({
    name: 'paged_collector',
    version: '0.0.1',
    inputs: [
      defineInput({
        name: 'paged',
        setup: async () => ({}),
        services: {
          events: defineService<unknown, Record<string, unknown>, number>({
            tag: 'my.app.paged.events',
            dedupKey: (r: PageRecord) => r.id,
            async *pull(ctx) {
              if (!windowed) {
                for (let i = 0; i < pages; i++) {
                  if (i > 0) await fetching(i);
                  yield { events: page(i), ...(i % 2 === 1 ? { checkpoint: i } : {}) };
                }
                return;
              }
              // The SDK's window engine between the service's pages and the runner: one window of `pages` pages.
              const now = ctx.now();
              const policy = { initialStart: new Date(now.getTime() - 3_600_000), resumeAt: () => undefined, checkpointAt: (end: Date) => end.getTime(), maxSpanMs: 3_600_000, wholeWindows: true };
              yield* pullWindows(ctx, undefined, policy, async function* () {
                for (let i = 0; i < pages; i++) {
                  if (i > 0) await fetching(i);
                  yield page(i);
                }
              });
            },
          }),
        },
      }),
    ],
  });
}

/**
 * Acknowledges each write after `delayMs`, first noting whether the page after the one it writes (fetched,
 * encoded, and waiting for room in the queue by then) can still be reached.
 */
class SlowCheckingOutput extends CapturingOutput {
  readonly nextPageHeld: boolean[] = [];

  constructor(
    private readonly refs: () => WeakRef<object>[],
    private readonly delayMs: number,
  ) {
    super('slow');
  }

  override async write(records: Parameters<CapturingOutput['write']>[0], service?: Parameters<CapturingOutput['write']>[1]): Promise<void> {
    const page = Number(/"id":"p(\d+)-/.exec(records[0]!.message)?.[1]);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const next = this.refs()[page + 1];
    if (next) {
      gc();
      this.nextPageHeld.push(next.deref() !== undefined);
    }
    await super.write(records, service);
  }
}

describe('the runner and the vendor pages', () => {
  it('keeps no page while the next one is fetched: only the encoded records wait for delivery', async () => {
    const held: boolean[] = [];
    const out = new CapturingOutput('capture');
    const workDir = mkdtempSync(join(tmpdir(), 'runner-pages-'));
    const config = { globals: { http_server: { enabled: false } }, inputs: { paged: { id: 1, services: { events: {} } } } };
    const summary = await new CollectorRuntime(pagedCollector(4, 300, held), { workDir, config, outputs: [out], logStream: new PassThrough() }).runOnce();
    expect(summary.ok).toBe(true);
    expect(out.ids().length).toBe(1200);
    expect(held).toEqual([false, false, false]);
  });

  it.each([false, true])('keeps no page while its records wait for room in the queue (through pullWindows: %s)', async (windowed) => {
    // Pages of one batch each; a write takes 40 ms: the next page is encoded meanwhile and waits for room.
    const refs: WeakRef<PageRecord[]>[] = [];
    const out = new SlowCheckingOutput(() => refs, 40);
    const workDir = mkdtempSync(join(tmpdir(), 'runner-pages-'));
    const config = { globals: { http_server: { enabled: false } }, inputs: { paged: { id: 1, services: { events: {} } } } };
    const summary = await new CollectorRuntime(pagedCollector(4, DEFAULT_BATCH_MESSAGES, [], windowed, refs), { workDir, config, outputs: [out], logStream: new PassThrough() }).runOnce();
    expect(summary.ok).toBe(true);
    expect(out.ids().length).toBe(4 * DEFAULT_BATCH_MESSAGES);
    expect(out.nextPageHeld).toEqual([false, false, false]);
  });

  it('keeps no page of a window while the next page of that window is fetched (pullWindows)', async () => {
    const held: boolean[] = [];
    const out = new CapturingOutput('capture');
    const workDir = mkdtempSync(join(tmpdir(), 'runner-pages-'));
    const config = { globals: { http_server: { enabled: false } }, inputs: { paged: { id: 1, services: { events: {} } } } };
    const summary = await new CollectorRuntime(pagedCollector(4, 300, held, true), { workDir, config, outputs: [out], logStream: new PassThrough() }).runOnce();
    expect(summary.ok).toBe(true);
    expect(out.ids().length).toBe(1200);
    expect(held).toEqual([false, false, false]);
  });
});
