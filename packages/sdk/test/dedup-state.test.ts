import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CollectorRuntime, DedupWindow, FilesystemStateStore, savedDedupKeys, type StateStore } from '@collector/sdk/host';
import { CapturingOutput, startRedis, type RedisServer } from '@collector/testkit';
import { exampleCollector, startExampleApi } from './example-input.js';
import { persistenceOfKind } from './persistence-kinds.js';

const HOUR = 3_600_000;
const KEY = 'example;42;events';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});
let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.stop();
});

describe('the dedup window in the state', () => {
  it.each(['filesystem', 'redis'] as const)(
    '%s: a state saved by the earlier version (a list of keys) and the journal a crash left load, drop what they hold, and are saved as one string that loads again',
    async (kind) => {
      const start = Date.now() - 3 * HOUR;
      // Vendor-like keys: numeric ids, GUIDs, a digest, one with a character above U+00FF.
      const ids = Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0 ? String(900_000 + i) : i % 3 === 1 ? `0b7c${i}f1e-5a2d-4c3b-9e8f-${String(i).padStart(12, '0')}` : `.Zq${i}_x-中${i}`,
      );
      const api = await startExampleApi(ids.map((id, i) => ({ id, t: start + i * 5 * 60_000 })));
      closers.push(api.close);
      const workDir = mkdtempSync(join(tmpdir(), 'dedup-state-'));
      const { persistence, store, journal } = await persistenceOfKind(kind, workDir, async () => (redis ??= await startRedis()), `dedup-${Date.now()}:`);
      closers.push(() => store.close(), () => journal.close());
      const config = {
        globals: { persistence },
        inputs: { example: { id: 42, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: api.url, lookback_ms: 4 * HOUR } } } },
      };
      const run = async () => {
        const out = new CapturingOutput();
        const summary = await new CollectorRuntime(exampleCollector, { workDir, config, outputs: [out], logStream: new PassThrough() }).runOnce();
        expect(summary.errors).toEqual([]);
        return { ids: out.ids(), duplicates: summary.services[0]!.duplicates };
      };
      expect((await run()).ids).toEqual(ids);
      const saved = (await store.load(KEY))!;
      expect(typeof saved['dedup']).toBe('string');
      expect(savedDedupKeys(saved['dedup'])).toEqual(ids);
      // The one string loads: the look-back's 30 are dropped, a new event is sent.
      api.events.push({ id: '123456789', t: Date.now() - 15 * 60_000 });
      const next = await run();
      expect(next.ids).toEqual(['123456789']);
      expect(next.duplicates).toBe(30);
      expect(savedDedupKeys((await store.load(KEY))!['dedup'])).toEqual([...ids, '123456789']);
      api.events.pop();

      // What the earlier version left after a crash: its state with the keys as a list (the first 25), the
      // last 5 in the journal; the look-back re-reads all 30.
      await store.save(KEY, { ...saved, dedup: ids.slice(0, 25) });
      await journal.fold(KEY);
      await journal.append(KEY, ids.slice(25));
      api.events.push({ id: 'late one', t: Date.now() - 10 * 60_000 }); // a key with a space: saved as a list
      const upgraded = await run();
      expect(upgraded.ids).toEqual(['late one']);
      expect(upgraded.duplicates).toBe(30);
      const list = (await store.load(KEY))!['dedup'];
      expect(list).toEqual([...ids, 'late one']);
      expect(await journal.read(KEY)).toEqual([]);

      // Saved as a list, read again: nothing is sent twice.
      const again = await run();
      expect(again.ids).toEqual([]);
      expect(again.duplicates).toBe(31);
    },
  );

  it('the end of a pull writes the keys the last checkpoint saved as they are, without making their text again, when no key was acknowledged since', async () => {
    const start = Date.now() - 3 * HOUR;
    // 6000 events in the first of three one-hour windows: its checkpoint's save writes the keys (a quarter of
    // the 20,000-key window was acknowledged since the state was loaded), the next two windows' saves and the
    // end of the pull have no new key.
    const ids = Array.from({ length: 6000 }, (_, i) => `evt-${i}`);
    const api = await startExampleApi(ids.map((id, i) => ({ id, t: start + i * 500 })));
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'dedup-state-'));
    const config = {
      globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } } },
      inputs: { example: { id: 42, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: api.url } } } },
    };
    const runtime = new CollectorRuntime(exampleCollector, { workDir, config, outputs: [new CapturingOutput()], logStream: new PassThrough() });
    const saved: unknown[] = [];
    const store = runtime.store as StateStore;
    const save = store.save.bind(store);
    store.save = async (key, state) => {
      if (key === KEY) saved.push(state['dedup']);
      return save(key, state);
    };
    const made = vi.spyOn(DedupWindow.prototype, 'toState');
    let calls: number;
    try {
      const summary = await runtime.runOnce();
      expect(summary.errors).toEqual([]);
      calls = made.mock.calls.length;
    } finally {
      made.mockRestore();
    }
    expect(calls).toBe(1);
    expect(saved.length).toBeGreaterThanOrEqual(5); // the fresh state, three or four checkpoints, the end of the pull
    expect(saved.at(-1)).toBe(saved.at(-2)); // the same object: written again as it is
    const file = new FilesystemStateStore(join(workDir, 'state'));
    expect(savedDedupKeys((await file.load(KEY))!['dedup'])).toEqual(ids);
  });
});
