import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_MESSAGES, savedDedupKeys, stateFileName } from '@collector/sdk/host';
import { startRedis, type RedisServer } from '@collector/testkit';
import { exampleTag, startExampleApi } from './example-input.js';
import { persistenceOfKind } from './persistence-kinds.js';

const child = fileURLToPath(new URL('./fixtures/example-child.ts', import.meta.url));
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (closers.length) await closers.pop()!();
});

function run(env: Record<string, string>, killWhen?: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d: Buffer) => {
      if (killWhen && d.toString().includes(killWhen)) proc.kill(signal);
    });
    proc.stderr.resume();
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('kill -9 between delivery and commit', () => {
  it('loses nothing: the unacknowledged window is pulled again after the restart', async () => {
    const start = Date.now() - 3 * 3_600_000;
    const events = Array.from({ length: 60 }, (_, i) => ({ id: `e${i}`, t: start + i * 3 * 60_000 }));
    const api = await startExampleApi(events);
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'crash-'));
    const env = { API_URL: api.url, START: new Date(start).toISOString(), WORK_DIR: workDir, OUT_FILE: join(workDir, 'received.ndjson') };

    const killed = await run({ ...env, MODE: 'hang-after-first-write' }, 'DELIVERED-NOT-ACKED');
    expect(killed.signal).toBe('SIGKILL');
    const stateFile = join(workDir, 'state', stateFileName('example;7;events'));
    // The state exists (pre-pull saved it) but holds no checkpoint: nothing was acknowledged.
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).checkpoint).toBeNull();
    const before = readFileSync(env.OUT_FILE, 'utf8').trim().split('\n').length;
    expect(before).toBeGreaterThan(0);

    const restarted = await run({ ...env, MODE: 'normal' });
    expect(restarted.code).toBe(0);
    const ids = readFileSync(env.OUT_FILE, 'utf8').trim().split('\n').map((l) => JSON.parse(l).id as string);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    // Duplicates only from the one batch that was delivered but not committed.
    expect(ids.length - events.length).toBe(before);
    expect(existsSync(stateFile)).toBe(true);
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).checkpoint).toBeGreaterThan(start);
  });
});

let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.stop();
});

describe('kill -9 in the middle of a paged window', () => {
  it.each(['filesystem', 'redis'] as const)('re-sends only the batches in flight (%s persistence): the keys of acknowledged pages were journaled before the checkpoint', async (kind) => {
    const start = Date.now() - 30 * 60_000;
    // One window, many pages: its checkpoint comes only after the last page. Pages fetched while a batch
    // awaits its acknowledgement go out together (at most one default batch a write): four batches' worth of
    // events are at least four writes, so the fourth one hangs.
    const events = Array.from({ length: 4 * DEFAULT_BATCH_MESSAGES }, (_, i) => ({ id: `p${i}`, t: start + i * 100 }));
    const api = await startExampleApi(events);
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'crash-paged-'));
    const key = 'example;7;events';
    const { persistence, store, journal } = await persistenceOfKind(kind, workDir, async () => (redis ??= await startRedis()), `crash-${Date.now()}:`);
    closers.push(() => store.close(), () => journal.close());
    const env = { API_URL: api.url, START: new Date(start).toISOString(), WORK_DIR: workDir, OUT_FILE: join(workDir, 'received.ndjson'), PAGE_SIZE: '10', PERSISTENCE: JSON.stringify(persistence) };
    let hung = 0;
    const killed = await new Promise<{ signal: NodeJS.Signals | null }>((resolve) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, ...env, MODE: 'hang-after-3-writes' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let timer: NodeJS.Timeout | undefined;
      proc.stdout.on('data', (d: Buffer) => {
        // Outputs pipeline their writes: every write after the third reaches the receiver and hangs.
        for (const m of d.toString().matchAll(/HUNG (\d+)/g)) hung += Number(m[1]);
        // The acknowledged pages' keys are journaled as each is acknowledged: once the journal holds every
        // page that is not hung (or after 10 s, and the assertions below fail), the crash. (`hung` may lag
        // behind the file while stdout is read: that only delays the kill.)
        if (hung > 0 && !timer) {
          const deadline = Date.now() + 10_000;
          let held = 0;
          timer = setInterval(() => {
            const delivered = existsSync(env.OUT_FILE) ? readFileSync(env.OUT_FILE, 'utf8').trim().split('\n').length : 0;
            void journal.read(key).then((keys) => {
              // Twice in a row, 100 ms apart: an acknowledgement may be on its way between two reads.
              held = keys.length + hung >= delivered ? held + 1 : 0;
              if (held < 2 && Date.now() < deadline) return;
              clearInterval(timer);
              proc.kill('SIGKILL');
            });
          }, 100);
        }
      });
      proc.stderr.resume();
      proc.on('exit', (_code, signal) => resolve({ signal }));
    });
    expect(killed.signal).toBe('SIGKILL');
    const saved = (await store.load(key)) as { checkpoint: unknown; dedup: string | string[] };
    expect(saved.checkpoint).toBeNull();
    const delivered = readFileSync(env.OUT_FILE, 'utf8').trim().split('\n').length;
    expect(hung).toBeGreaterThan(0);
    expect(delivered).toBeGreaterThan(hung);
    // No state save since the start: every acknowledged key is in the journal.
    expect(savedDedupKeys(saved.dedup)).toEqual([]);
    expect(await journal.read(key)).toHaveLength(delivered - hung);

    expect((await run({ ...env, MODE: 'normal' })).code).toBe(0);
    const ids = readFileSync(env.OUT_FILE, 'utf8').trim().split('\n').map((l) => JSON.parse(l).id as string);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    expect(ids.length - events.length).toBe(hung);
    // The restart's checkpoint folded the journal into the state.
    expect(savedDedupKeys((await store.load(key))?.['dedup']).length).toBeGreaterThanOrEqual(delivered - hung);
    expect(await journal.read(key)).toEqual([]);
  });
});

describe('kill -9 while batches hold events of several tags', () => {
  it('loses nothing, re-sends only the batch in flight, and every event goes to its own tag', async () => {
    const start = Date.now() - 30 * 60_000;
    // One window of four batches' worth of events in runs of three per tag: each batch holds hundreds of tag
    // runs, and the fourth write hangs.
    const events = Array.from({ length: 4 * DEFAULT_BATCH_MESSAGES }, (_, i) => ({ id: `p${i}`, t: start + i * 100 }));
    const tags = ['my.app.example.events', 'my.app.example.other'];
    const api = await startExampleApi(events);
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'crash-tags-'));
    const env = { API_URL: api.url, START: new Date(start).toISOString(), WORK_DIR: workDir, OUT_FILE: join(workDir, 'received.txt'), PAGE_SIZE: '10', PAGE_TAGS: tags.join(',') };
    let hung = 0;
    const killed = await new Promise<{ signal: NodeJS.Signals | null }>((resolve) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, ...env, MODE: 'hang-after-3-writes' }, stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout.on('data', (d: Buffer) => {
        // The fourth write reached the receiver and hangs: it began only once the third was journaled.
        for (const m of d.toString().matchAll(/HUNG (\d+)/g)) hung += Number(m[1]);
        if (hung > 0) proc.kill('SIGKILL');
      });
      proc.stderr.resume();
      proc.on('exit', (_code, signal) => resolve({ signal }));
    });
    expect(killed.signal).toBe('SIGKILL');
    const lines = () => readFileSync(env.OUT_FILE, 'utf8').trim().split('\n').map((l) => ({ tag: l.slice(0, l.indexOf(' ')), id: (JSON.parse(l.slice(l.indexOf(' ') + 1)) as { id: string }).id }));
    const delivered = lines().length;
    expect(hung).toBeGreaterThan(0);
    expect(hung).toBeLessThanOrEqual(DEFAULT_BATCH_MESSAGES);
    expect(delivered).toBeGreaterThan(hung);

    expect((await run({ ...env, MODE: 'normal' })).code).toBe(0);
    const received = lines();
    expect(new Set(received.map((l) => l.id))).toEqual(new Set(events.map((e) => e.id)));
    expect(received.length - events.length).toBe(hung);
    const tagOf = new Map(events.map((e) => [e.id, exampleTag(tags, e)]));
    expect(received.filter((l) => l.tag !== tagOf.get(l.id))).toEqual([]);
    expect(new Set(received.map((l) => l.tag))).toEqual(new Set(tags));
  });
});

describe('kill -9 while state saves and journal appends interleave', () => {
  it.each(['filesystem', 'redis'] as const)('state + journal hold every acknowledged key but the last batch, never an unsent one, and the checkpoint is never ahead (%s)', async (kind) => {
    // 120 one-hour windows of 50 events in pages of 10: a state save per window while batches are acknowledged
    // and journaled (about 40 writes in all, but as few as 16 on a loaded machine, where more pages wait for
    // each acknowledgement). Killed once a number of events were written, each from a fresh start: by events,
    // not writes, so every kill point falls inside the run whatever the batch sizes. With the default window
    // (20,000 keys) no save before the end writes the keys (the journal holds them); with an 8,000-key window
    // the first save after each 2,000 new keys does, and folds the journal, between checkpoint-only saves.
    const start = Date.now() - 121 * 3_600_000;
    const events = Array.from({ length: 6000 }, (_, i) => ({ id: `k${i}`, t: start + i * 72_000 }));
    const api = await startExampleApi(events);
    closers.push(api.close);
    for (const [killAfter, dedupWindow] of [[21, 0], [300, 0], [900, 0], [2500, 8000], [4000, 8000]] as const) {
      const workDir = mkdtempSync(join(tmpdir(), 'crash-saves-'));
      const key = 'example;7;events';
      const { persistence, store, journal } = await persistenceOfKind(kind, workDir, async () => (redis ??= await startRedis()), `crash-saves-${Date.now()}-${killAfter}:`);
      closers.push(() => store.close(), () => journal.close());
      const env = { API_URL: api.url, START: new Date(start).toISOString(), WORK_DIR: workDir, OUT_FILE: join(workDir, 'received.ndjson'), PAGE_SIZE: '10', PERSISTENCE: JSON.stringify(persistence), DEDUP_WINDOW: String(dedupWindow) };
      const writes: number[] = [];
      const killed = await new Promise<{ signal: NodeJS.Signals | null }>((resolve) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, ...env, MODE: 'report-writes' }, stdio: ['ignore', 'pipe', 'pipe'] });
        proc.stdout.on('data', (d: Buffer) => {
          for (const m of d.toString().matchAll(/WROTE (\d+)/g)) writes.push(Number(m[1]));
          if (writes.reduce((n, w) => n + w, 0) >= killAfter) proc.kill('SIGKILL');
        });
        proc.stderr.resume();
        proc.on('exit', (_code, signal) => resolve({ signal }));
      });
      expect(killed.signal).toBe('SIGKILL');
      // By the id each line starts with: a kill mid-write can leave a torn last line (its event was not acknowledged).
      const idsIn = (text: string) => [...text.matchAll(/\{"id":"(k\d+)"/g)].map((m) => m[1]!);
      const delivered = idsIn(readFileSync(env.OUT_FILE, 'utf8'));
      const saved = (await store.load(key)) as { checkpoint: number | null; dedup: string | string[] };
      const known = new Set([...savedDedupKeys(saved.dedup), ...(await journal.read(key))]);
      const sent = new Set(delivered);
      // Never the key of an event that did not reach the receiver; every delivered one but the last write's.
      expect([...known].filter((k) => !sent.has(k))).toEqual([]);
      const missing = delivered.filter((id) => !known.has(id));
      expect(missing.length).toBeLessThanOrEqual(writes.at(-1)!);
      // The checkpoint is never past an event that was not delivered.
      if (saved.checkpoint !== null) expect(events.filter((e) => e.t < saved.checkpoint! && !sent.has(e.id))).toEqual([]);
      // Fewer than 5,000 new keys: the windows' saves moved the checkpoint without writing the keys again.
      if (dedupWindow === 0 && saved.checkpoint !== null) expect(savedDedupKeys(saved.dedup)).toEqual([]);

      expect((await run({ ...env, MODE: 'normal' })).code).toBe(0);
      const ids = idsIn(readFileSync(env.OUT_FILE, 'utf8'));
      expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
      // Sent twice: exactly the delivered events whose keys the crash left neither in the state nor the journal.
      expect(ids.length - events.length).toBe(missing.length);
    }
  });
});

describe('SIGTERM', () => {
  it('stops gracefully: exit 0, everything delivered and the checkpoint saved', async () => {
    const start = Date.now() - 2 * 3_600_000;
    const events = Array.from({ length: 20 }, (_, i) => ({ id: `e${i}`, t: start + i * 60_000 }));
    const api = await startExampleApi(events);
    closers.push(api.close);
    const workDir = mkdtempSync(join(tmpdir(), 'sigterm-'));
    const env = { API_URL: api.url, START: new Date(start).toISOString(), WORK_DIR: workDir, OUT_FILE: join(workDir, 'received.ndjson'), MODE: 'daemon' };
    const result = await run(env, 'Data collection completed', 'SIGTERM');
    expect(result.code).toBe(0);
    const ids = readFileSync(env.OUT_FILE, 'utf8').trim().split('\n').map((l) => JSON.parse(l).id as string);
    expect(ids).toEqual(events.map((e) => e.id));
    const state = JSON.parse(readFileSync(join(workDir, 'state', stateFileName('example;7;events')), 'utf8'));
    expect(state.checkpoint).toBeGreaterThan(start);
  });
});
