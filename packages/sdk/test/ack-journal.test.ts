import { mkdtempSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { FileAckJournal, RedisAckJournal, type AckJournal } from '@collector/sdk/host';
import { startRedis, type RedisServer } from '@collector/testkit';

let redis: RedisServer | undefined;
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (closers.length) await closers.pop()!();
  await redis?.stop();
});

/** A fresh journal of each kind, and a second instance on the same files or lists (what a restart reads). */
async function journals(kind: 'file' | 'redis'): Promise<{ journal: AckJournal; restart: () => AckJournal }> {
  if (kind === 'file') {
    const dir = join(mkdtempSync(join(tmpdir(), 'journal-')), 'state');
    const make = () => {
      const j = new FileAckJournal(dir);
      closers.push(() => j.close());
      return j;
    };
    return { journal: make(), restart: make };
  }
  redis ??= await startRedis();
  const options = { host: redis.host, port: redis.port, prefix: `journal-${Math.random()}:` };
  const make = () => {
    const j = new RedisAckJournal(options);
    closers.push(() => j.close());
    return j;
  };
  return { journal: make(), restart: make };
}

describe.each(['file', 'redis'] as const)('the acknowledgement journal (%s)', (kind) => {
  it('a save seals what was appended before it: appends go on meanwhile, and its fold removes only the sealed keys', async () => {
    const { journal, restart } = await journals(kind);
    expect(await journal.read('s')).toEqual([]);
    await journal.append('s', ['a1', 'a2']);
    const fold = journal.seal('s'); // the snapshot of a save holds a1, a2
    // The save is still being written: appends do not wait for it, and a crash now finds every key.
    await journal.append('s', ['b1']);
    expect(new Set(await restart().read('s'))).toEqual(new Set(['a1', 'a2', 'b1']));
    await fold();
    // After the save: only what its snapshot lacks.
    expect(await restart().read('s')).toEqual(['b1']);
    const second = journal.seal('s');
    await journal.append('s', ['c1']);
    await second();
    expect(await restart().read('s')).toEqual(['c1']);
  });

  it('a save that failed (its fold never runs) keeps its keys until a later save holds them', async () => {
    const { journal, restart } = await journals(kind);
    await journal.read('s');
    await journal.append('s', ['a1']);
    journal.seal('s'); // this save failed: no fold
    await journal.append('s', ['b1']);
    // The next save holds a1 and b1; its fold may only empty what holds keys from before its seal.
    const fold = journal.seal('s');
    await journal.append('s', ['c1']);
    await fold();
    // b1 and c1 stay (the segment that took them is not the one sealed); a1 is in the saved state.
    expect(new Set(await restart().read('s'))).toEqual(new Set(['b1', 'c1']));
    // The save after that one moves the appends and folds the rest.
    await journal.seal('s')();
    expect(await restart().read('s')).toEqual([]);
  });

  it('a fold never empties a segment that took appends again after its seal', async () => {
    const { journal, restart } = await journals(kind);
    await journal.read('s');
    await journal.append('s', ['a1']);
    const late = journal.seal('s');
    await journal.append('s', ['b1']);
    await journal.seal('s')(); // a later save, done first (it holds a1 and b1)
    const third = journal.seal('s'); // appends move back to the first segment
    await journal.append('s', ['c1']);
    await late(); // the first save's fold, run only now: c1 is in no saved state, it must stay
    expect(await restart().read('s')).toContain('c1');
    await third();
    expect(await restart().read('s')).toEqual(['c1']);
  });

  it('fold() empties the whole journal (a reset of the state)', async () => {
    const { journal, restart } = await journals(kind);
    await journal.append('s', ['a1']);
    journal.seal('s');
    await journal.append('s', ['b1']);
    await journal.fold('s');
    expect(await restart().read('s')).toEqual([]);
  });
});

describe('the acknowledgement journal file: fdatasync behind the append', () => {
  /** FileHandle's datasync and write, spied on: a log of calls, and datasync held until `release()`. */
  async function heldSyncs(): Promise<{ log: string[]; release: () => void; failNext: () => void }> {
    vi.restoreAllMocks(); // spies of an earlier call would wrap each other
    const probe = await open(join(mkdtempSync(join(tmpdir(), 'journal-probe-')), 'f'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void>; write: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const log: string[] = [];
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    let fail = false;
    const { datasync, write } = proto;
    vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, ...args: unknown[]) {
      log.push(`write ${String(args[0]).trim()}`);
      return write.apply(this, args);
    });
    vi.spyOn(proto, 'datasync').mockImplementation(async function (this: unknown) {
      log.push('sync');
      await gate;
      if (fail) {
        fail = false;
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      }
      return datasync.call(this);
    });
    return {
      log,
      release: () => {
        release();
        gate = Promise.resolve();
      },
      failNext: () => (fail = true),
    };
  }

  const within = <T>(promise: Promise<T>, ms = 2_000) =>
    Promise.race([promise.then(() => 'settled' as const), new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);

  afterEach(() => vi.restoreAllMocks());

  it('an append resolves once written, before its fdatasync; the next append is written only once that one returned', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'journal-')), 'state');
    const journal = new FileAckJournal(dir);
    const syncs = await heldSyncs();
    // Written and resolved while its fdatasync is held: a kill -9 now leaves the line in the file.
    expect(await within(journal.append('s', ['a1']))).toBe('settled');
    expect(await new FileAckJournal(dir).read('s')).toEqual(['a1']);
    const second = journal.append('s', ['b1']);
    expect(await within(second, 100)).toBe('pending');
    expect(syncs.log).toEqual(['write ["a1"]', 'sync']);
    syncs.release();
    await second;
    expect(syncs.log).toEqual(['write ["a1"]', 'sync', 'write ["b1"]']);
    expect(await new FileAckJournal(dir).read('s')).toEqual(['a1', 'b1']);
    await journal.close(); // b1's fdatasync, behind it
    expect(syncs.log).toEqual(['write ["a1"]', 'sync', 'write ["b1"]', 'sync']);
  });

  it('a failed fdatasync is PersistenceError 504 at the next append, and close() waits for the last one', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'journal-')), 'state');
    const journal = new FileAckJournal(dir);
    const syncs = await heldSyncs();
    syncs.failNext();
    await journal.append('s', ['a1']);
    syncs.release();
    await expect(journal.append('s', ['b1'])).rejects.toMatchObject({ id: 504, message: expect.stringMatching(/fdatasync of the previous append failed: EIO/) });
    await journal.append('s', ['c1']);
    expect(await new FileAckJournal(dir).read('s')).toEqual(['a1', 'c1']);
    // close() after an append whose fdatasync is still held: it resolves only once that returned.
    const held = await heldSyncs();
    await journal.append('s', ['d1']);
    const closed = journal.close();
    expect(await within(closed, 100)).toBe('pending');
    held.release();
    await closed;
    expect(held.log).toEqual(['write ["d1"]', 'sync']);
  });
});
