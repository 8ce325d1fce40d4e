import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
