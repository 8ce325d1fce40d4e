import { describe, expect, it, vi } from 'vitest';
import { DedupWindow, MemoryStateStore, savedDedupKeys, silentLogger, type Delivery } from '@collector/sdk/host';
import { EncodedBatch } from '@collector/sdk';
import type { HttpClient } from '../src/http/http-client.js';
import type { Submission } from '../src/delivery/encoded-batch.js';
import type { ServiceDefinition } from '../src/runtime/definitions.js';
import { ServiceRunner } from '../src/runtime/service-runner.js';

// The runner's dedup: a key counts as seen once acknowledged (or loaded), and while its event is queued or
// in flight; a batch that fails was never delivered, so its keys are not seen any more.

interface Event {
  id: string;
}

/** The ids of a submission's events, from their JSON lines (the runner adds `@devo_pulling_id`). */
function idsOf(submission: Submission): string[] {
  const parts = (Array.isArray(submission) && submission[0] instanceof EncodedBatch ? submission : [submission]) as EncodedBatch[];
  return parts.flatMap((part) => part.records().map((r) => (JSON.parse(r.message) as Event).id));
}

/**
 * A delivery whose acknowledgements wait until `release()`; `fail` makes the next ones reject (as a stopped
 * delivery's do), or the next submission throw (as the pipeline's does for a tag it refuses).
 */
class GatedDelivery implements Delivery {
  readonly delivered: string[] = [];
  readonly submitted: string[] = [];
  fail: 'none' | 'reject' | 'throw once' = 'none';
  private gate: Promise<void> = Promise.resolve();
  private open: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
  }

  async submit(submission: Submission): Promise<{ delivered: Promise<void> }> {
    if (this.fail === 'throw once') {
      this.fail = 'none';
      throw new Error('submission refused');
    }
    const ids = idsOf(submission);
    this.submitted.push(...ids);
    const fail = this.fail === 'reject';
    const delivered = this.gate.then(() => {
      if (fail) throw new Error('delivery stopped');
      this.delivered.push(...ids);
    });
    delivered.catch(() => undefined);
    return { delivered };
  }

  async flush(): Promise<void> {}
  ready(): boolean {
    return true;
  }
  async stop(): Promise<void> {}
}

type Pull = ServiceDefinition<unknown, Record<string, unknown>, number>['pull'];

function runnerOf(pages: () => Event[][], delivery: Delivery, store = new MemoryStateStore(), options: Record<string, unknown> = {}, signal = new AbortController().signal, pull?: Pull) {
  const definition: ServiceDefinition<unknown, Record<string, unknown>, number> = {
    tag: 'my.app.test.events',
    dedupKey: (e: Event) => e.id,
    pull:
      pull ??
      async function* () {
        const all = pages();
        for (let i = 0; i < all.length; i++) {
          yield { events: all[i]!, checkpoint: i === all.length - 1 ? 1 : undefined };
        }
      },
  };
  const runner = new ServiceRunner({
    collectorName: 'test',
    inputName: 'test',
    inputId: '1',
    serviceName: 'events',
    definition: definition as ServiceRunnerDefinition,
    input: {} as never,
    options,
    path: 'inputs.test.services.events',
    log: silentLogger,
    http: {} as HttpClient,
    store,
    delivery,
    client: { get: async () => ({}) },
    signal,
    batchMessages: 2,
  });
  return { runner, store };
}

type ServiceRunnerDefinition = ConstructorParameters<typeof ServiceRunner>[0]['definition'];

const ids = (...list: string[]): Event[] => list.map((id) => ({ id }));

describe("the runner's dedup keys", () => {
  it('drops an event whose key is queued or in flight (not yet acknowledged) as a duplicate', async () => {
    const delivery = new GatedDelivery();
    delivery.hold();
    // Batches of two: [a, b] goes out and waits 100 ms for its acknowledgement while the next page repeats a
    // (in flight) and queues c, and the one after queues d and repeats c (queued, not submitted yet).
    const { runner } = runnerOf(() => [ids('a', 'b'), ids('a', 'c'), ids('d', 'c'), ids('b', 'e')], delivery);
    setTimeout(() => delivery.release(), 100);
    const stats = await runner.pullOnce();
    expect(delivery.delivered).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(stats.duplicates).toBe(3);
  });

  it('forgets the keys of a batch whose acknowledgement rejected: a later pull that reads its events again sends them', async () => {
    const delivery = new GatedDelivery();
    const { runner, store } = runnerOf(() => [ids('a', 'b'), ids('c')], delivery);
    delivery.fail = 'reject';
    await expect(runner.pullOnce()).rejects.toThrow();
    expect(delivery.delivered).toEqual([]);
    delivery.fail = 'none';
    const stats = await runner.pullOnce();
    expect(delivery.delivered).toEqual(['a', 'b', 'c']);
    expect(stats.duplicates).toBe(0);
    expect(savedDedupKeys((await store.load(runner.stateKey))?.['dedup'])).toEqual(['a', 'b', 'c']);
    // Acknowledged now: seen.
    const again = await runner.pullOnce();
    expect(delivery.delivered).toEqual(['a', 'b', 'c']);
    expect(again.duplicates).toBe(3);
  });

  it('a submission that throws fails its pull; the next pull sends its events and commits (it does not wait for the lost batch)', async () => {
    const delivery = new GatedDelivery();
    const { runner, store } = runnerOf(() => [ids('a', 'b'), ids('c')], delivery);
    delivery.fail = 'throw once';
    await expect(runner.pullOnce()).rejects.toThrow('submission refused');
    expect(delivery.delivered).toEqual([]);
    const next = await Promise.race([runner.pullOnce(), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 2_000))]);
    expect(next).not.toBe('hung');
    expect(delivery.delivered).toEqual(['a', 'b', 'c']);
    expect((await store.load(runner.stateKey))?.['checkpoint']).toBe(1);
  });
});

/** What the daemon loop does before it waits for the next pull after one that received events (a private step, driven here without the wait). */
const idle = (runner: ServiceRunner) => (runner as unknown as { goIdle(stats: { received: number }): Promise<void> }).goIdle({ received: 1 });

describe('ctx.emit', () => {
  it('forgets the keys of the events it dropped because the encoder threw on one of them', async () => {
    const delivery = new GatedDelivery();
    let threw: unknown;
    const { runner } = runnerOf(() => [], delivery, undefined, undefined, undefined, async function* (ctx) {
      // JSON has no BigInt: the encoder throws on b, after a was encoded; nothing of this call is sent.
      await ctx.emit([{ id: 'a' }, { id: 'b', n: 1n }]).catch((error: unknown) => void (threw = error));
      const { delivered } = await ctx.emit([{ id: 'a' }, { id: 'c' }]);
      await delivered;
      yield { events: [], checkpoint: 1 };
    });
    const stats = await runner.pullOnce();
    expect(threw).toBeInstanceOf(TypeError);
    expect(delivery.delivered).toEqual(['a', 'c']);
    expect(stats.duplicates).toBe(0);
  });
});

describe("an idle service's acknowledged keys", () => {
  it('are left to the saved state while idle and loaded again before the next pull: nothing is sent twice', async () => {
    const delivery = new GatedDelivery();
    let pages = [ids('a', 'b', 'c')];
    const { runner, store } = runnerOf(() => pages, delivery);
    await runner.pullOnce();
    await idle(runner);
    // Released: the window no longer answers (a pull that skipped loading them would throw, not send twice).
    expect(() => (runner as unknown as { keys: { acked: { has(key: string): boolean } } }).keys.acked.has('a')).toThrow(/released/);
    pages = [ids('b', 'c', 'd')];
    const stats = await runner.pullOnce();
    expect(delivery.delivered).toEqual(['a', 'b', 'c', 'd']);
    expect(stats.duplicates).toBe(2);
    expect(savedDedupKeys((await store.load(runner.stateKey))?.['dedup'])).toEqual(['a', 'b', 'c', 'd']);
    // And again, through a second release.
    await idle(runner);
    pages = [ids('a', 'd', 'e')];
    expect((await runner.pullOnce()).duplicates).toBe(2);
    expect(delivery.delivered).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('are left to the state again after a pull that loaded them and received nothing; held keys are not touched by such a pull', async () => {
    const delivery = new GatedDelivery();
    let pages = [ids('a', 'b')];
    const { runner } = runnerOf(() => pages, delivery);
    const goIdle = async () => (runner as unknown as { goIdle(stats: unknown): Promise<void> }).goIdle(await runner.pullOnce());
    const released = vi.spyOn(DedupWindow.prototype, 'release');
    try {
      await runner.pullOnce(); // a pull followed by a short wait: the keys stay held
      pages = [];
      await goIdle(); // nothing received, nothing loaded: nothing to give back
      expect(released).toHaveBeenCalledTimes(0);
      pages = [ids('c')];
      await goIdle(); // received events
      expect(released).toHaveBeenCalledTimes(1);
      pages = [];
      await goIdle(); // received nothing, but loaded the keys again
      await goIdle();
      expect(released).toHaveBeenCalledTimes(3);
      pages = [ids('a', 'c', 'd')];
      await goIdle();
      expect(delivery.delivered).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      released.mockRestore();
    }
  });

  it('in the daemon loop: a pull 5 s after the last sends only what the window had not seen', async () => {
    const delivery = new GatedDelivery();
    const stop = new AbortController();
    let pulls = 0;
    const pages = () => {
      pulls++;
      if (pulls === 2) setTimeout(() => stop.abort(), 200);
      return pulls === 1 ? [ids('a', 'b', 'c')] : [ids('b', 'c', 'd')];
    };
    // A period that leaves the daemon 5 s or more idle: it releases the keys and loads them for the next pull.
    const { runner } = runnerOf(pages, delivery, new MemoryStateStore(), { request_period_in_seconds: 5.2 }, stop.signal);
    const released = vi.spyOn(DedupWindow.prototype, 'release');
    try {
      await runner.loop();
      expect(released).toHaveBeenCalledTimes(2); // after each pull
    } finally {
      released.mockRestore();
    }
    expect(pulls).toBe(2);
    expect(delivery.delivered).toEqual(['a', 'b', 'c', 'd']);
    expect(runner.totals.duplicates).toBe(2);
  }, 20_000);

  it('stay in memory when the state may lack some (its last save failed), and a failed load fails the pull with nothing sent', async () => {
    const delivery = new GatedDelivery();
    const store = new MemoryStateStore();
    let pages = [ids('a', 'b')];
    const { runner } = runnerOf(() => pages, delivery, store);
    await runner.pullOnce();
    const save = store.save.bind(store);
    store.save = async () => {
      throw new Error('disk full');
    };
    pages = [ids('c')];
    await expect(runner.pullOnce()).rejects.toThrow('disk full');
    await idle(runner); // c is acknowledged but not saved: kept
    store.save = save;
    pages = [ids('a', 'c', 'd')];
    expect((await runner.pullOnce()).duplicates).toBe(2);
    expect(delivery.delivered).toEqual(['a', 'b', 'c', 'd']);

    await idle(runner);
    const load = store.load.bind(store);
    store.load = async () => {
      throw new Error('cannot read');
    };
    pages = [ids('d', 'e')];
    await expect(runner.pullOnce()).rejects.toThrow('cannot read');
    expect(delivery.delivered).toEqual(['a', 'b', 'c', 'd']);
    store.load = load;
    expect((await runner.pullOnce()).duplicates).toBe(1);
    expect(delivery.delivered).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
