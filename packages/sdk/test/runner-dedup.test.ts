import { describe, expect, it } from 'vitest';
import { MemoryStateStore, savedDedupKeys, silentLogger, type Delivery } from '@collector/sdk/host';
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

/** A delivery whose acknowledgements wait until `release()`; `fail` makes the next ones reject (as a stopped delivery's do). */
class GatedDelivery implements Delivery {
  readonly delivered: string[] = [];
  readonly submitted: string[] = [];
  fail: 'none' | 'reject' = 'none';
  private gate: Promise<void> = Promise.resolve();
  private open: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
  }

  async submit(submission: Submission): Promise<{ delivered: Promise<void> }> {
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

function runnerOf(pages: () => Event[][], delivery: Delivery) {
  const definition: ServiceDefinition<unknown, Record<string, unknown>, number> = {
    tag: 'my.app.test.events',
    dedupKey: (e: Event) => e.id,
    async *pull() {
      const all = pages();
      for (let i = 0; i < all.length; i++) {
        yield { events: all[i]!, checkpoint: i === all.length - 1 ? 1 : undefined };
      }
    },
  };
  const store = new MemoryStateStore();
  const runner = new ServiceRunner({
    collectorName: 'test',
    inputName: 'test',
    inputId: '1',
    serviceName: 'events',
    definition: definition as ServiceRunnerDefinition,
    input: {} as never,
    options: {},
    path: 'inputs.test.services.events',
    log: silentLogger,
    http: {} as HttpClient,
    store,
    delivery,
    client: { get: async () => ({}) },
    signal: new AbortController().signal,
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

  // (A submission that throws forgets its batch's keys too, but a later pull of that runner then waits for
  // the lost batch's position forever: a runner matter of its own, not tested here.)
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
});
