import { mkdir, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { GlobalsConfig } from '../config/load-config.js';
import { PersistenceError } from '../errors/collector-error.js';
import { redact } from '../secrets/redactor.js';
import { redisStoreOptions, stateDirectory } from './create-store.js';
import { LEASE_LOST_ERROR, type RedisStoreOptions } from './redis-store.js';
import { leaseKeys, type LeaseTerm } from './redis-lease.js';
import { LazyRedis } from './lazy-redis.js';
import { stateFileName } from './filesystem-store.js';

/**
 * The keys of acknowledged events, made durable as each batch is acknowledged and folded into the state at
 * each save. A checkpoint is committed only at the end of a window; without the journal a crash mid-window
 * re-sent every event of the window acknowledged since the last state save. With it, the restart's dedup
 * window holds every key acknowledged before the crash, and only the batch in flight is sent again.
 */
export interface AckJournal {
  /**
   * Appends the keys of one acknowledged batch; resolves once they outlive this process: in Redis, or
   * written to the file (the kernel keeps them through a `kill -9`). The file's fdatasync runs behind, and
   * the next append to it is written only once that one is durable (see FileAckJournal).
   */
  append(stateKey: string, keys: readonly string[]): Promise<void>;
  /** Every key appended and not folded yet, oldest segment first (a line torn by a crash is skipped). */
  read(stateKey: string): Promise<string[]>;
  /**
   * To be called in the same synchronous turn as a state save's snapshot is taken (so the snapshot holds
   * every key appended before): appends from now on go to a segment that this save's fold leaves alone, so
   * they never wait for the save. Returns that fold: call it once the saved state is durable.
   */
  seal(stateKey: string): () => Promise<void>;
  /** Empties the whole journal (a reset of the state, before anything was appended). */
  fold(stateKey: string): Promise<void>;
  close(): Promise<void>;
}

/** `persistence.type: memory` and read-only runs (`--check`, `--show-state`): nothing outlives the process. */
export const noJournal: AckJournal = {
  append: async () => undefined,
  read: async () => [],
  seal: () => async () => undefined,
  fold: async () => undefined,
  close: async () => undefined,
};

/** Read-only runs see the journal but never write it. */
export function readOnlyJournal(journal: AckJournal): AckJournal {
  return { ...noJournal, read: (key) => journal.read(key), close: () => journal.close() };
}

function parseLines(text: string): string[] {
  const keys: string[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const batch: unknown = JSON.parse(line);
      if (Array.isArray(batch)) for (const k of batch) if (typeof k === 'string') keys.push(k);
    } catch {
      // The last line of a crash mid-append: those keys were not durable yet, their batch is re-sent.
    }
  }
  return keys;
}

type Segment = 0 | 1;

/** One service's two segments: which one takes appends, and the writes queued on each. */
class SegmentPair {
  current: Segment = 0;
  /** Seals that moved the appends so far: a fold of a segment that took appends again since is skipped. */
  flips = 0;
  /** The segment not appended to may hold keys no fold removed yet (left by a crash, or a save that failed). */
  otherHolds = true;
  private readonly tails: [Promise<void>, Promise<void>] = [Promise.resolve(), Promise.resolve()];
  /** Writes queued on each segment and not settled yet. */
  private readonly pending: [number, number] = [0, 0];

  /**
   * Runs `write` on `segment` once the writes queued on it before have settled: in order, per segment.
   * With none pending it starts in this very turn, so an append's I/O is under way before its caller goes on.
   */
  queue<T>(segment: Segment, write: () => Promise<T>): Promise<T> {
    const run = this.pending[segment] === 0 ? write() : this.tails[segment].then(write);
    this.pending[segment]++;
    this.tails[segment] = run.then(
      () => void this.pending[segment]--,
      () => void this.pending[segment]--,
    );
    return run;
  }

  /** Once the writes queued on both segments so far have settled. */
  idle(): Promise<unknown> {
    return Promise.all(this.tails);
  }
}

/**
 * A journal of two segments per service, appended to in turn. A save seals the segment in use and appends
 * move to the other one (when its own fold is done; else they stay, and that fold runs first): the save's
 * fold empties only the sealed segment, after the appends issued to it, while new appends go on into the
 * other. So an append never queues behind a state save, and a fold never empties a key the saved snapshot
 * lacks: every key appended to a segment before its seal was in the acknowledged window when the snapshot
 * was taken, in the same turn. After a kill -9 at any point, the state plus both segments hold every key
 * whose append had resolved.
 */
abstract class SegmentedJournal implements AckJournal {
  private readonly pairs = new Map<string, SegmentPair>();

  protected abstract appendLine(stateKey: string, segment: Segment, line: string): Promise<void>;
  /**
   * Queued on the segment right after each append, not awaited by it: what makes the append durable when its
   * write alone does not. The segment's next write (append or fold) waits for it.
   */
  protected durable?(stateKey: string, segment: Segment): Promise<void>;
  /** Reads one segment's lines (none when it does not exist). */
  protected abstract readLines(stateKey: string, segment: Segment): Promise<string>;
  protected abstract empty(stateKey: string, segment: Segment): Promise<void>;
  abstract close(): Promise<void>;

  private pair(stateKey: string): SegmentPair {
    let pair = this.pairs.get(stateKey);
    if (!pair) this.pairs.set(stateKey, (pair = new SegmentPair()));
    return pair;
  }

  append(stateKey: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    const pair = this.pair(stateKey);
    const segment = pair.current;
    const line = redact(JSON.stringify(keys));
    const appended = pair.queue(segment, () => this.appendLine(stateKey, segment, line));
    if (this.durable) void pair.queue(segment, () => this.durable!(stateKey, segment)).catch(() => undefined);
    return appended;
  }

  /** Once every write queued so far (appends, their syncs, folds) has settled. */
  protected settled(): Promise<void> {
    return Promise.all([...this.pairs.values()].map((pair) => pair.idle())).then(() => undefined);
  }

  async read(stateKey: string): Promise<string[]> {
    // The segment that does not take appends holds the older keys (sealed before the other took over). At a
    // start, which one is older is not known: the order only decides which keys a full dedup window drops first.
    const known = this.pairs.get(stateKey);
    const current = known?.current ?? 0;
    const older = await this.readLines(stateKey, (1 - current) as Segment);
    const newer = await this.readLines(stateKey, current);
    // Read at a start: when the other segment is empty, the first seal can move the appends to it at once.
    if (!known) this.pair(stateKey).otherHolds = older.length > 0;
    return parseLines(older + '\n' + newer);
  }

  seal(stateKey: string): () => Promise<void> {
    const pair = this.pair(stateKey);
    if (!pair.otherHolds) {
      pair.current = (1 - pair.current) as Segment;
      pair.flips++;
      pair.otherHolds = true;
    }
    const sealed = (1 - pair.current) as Segment;
    const flips = pair.flips;
    return () =>
      pair.queue(sealed, async () => {
        // Appended to again since (a later seal moved back to it): its newer keys are in no saved state yet.
        if (pair.flips !== flips) return;
        await this.empty(stateKey, sealed);
        pair.otherHolds = false;
      });
  }

  async fold(stateKey: string): Promise<void> {
    const pair = this.pair(stateKey);
    await Promise.all(([0, 1] as const).map((segment) => pair.queue(segment, () => this.empty(stateKey, segment))));
    pair.otherHolds = false;
  }
}

/**
 * Two append-only files per service beside its state file (`<state file>.journal` and `<state file>.journal.1`,
 * mode 0600): a JSON array of keys per acknowledged batch; a fold truncates its segment.
 *
 * `append` resolves once the line is written: from then on it is the kernel's, and a `kill -9` of this process
 * cannot undo it. Its fdatasync, which only a crash of the machine needs, runs behind, while the service's next
 * batch is written and settles, and that batch's append is written only once it returned: a crash of the machine
 * loses at most the last line, the keys of one more batch, sent again after it (a journal costs duplicates,
 * never events). Waiting for the fdatasync before resolving put a disk flush (1.5–2 ms median on our VM's
 * quiet disk, 20–27 on a busy one) into every acknowledgement cycle of a service with dedup keys, whose next
 * batch waits for the append.
 */
export class FileAckJournal extends SegmentedJournal {
  private readonly handles = new Map<string, Promise<FileHandle>>();
  /** The same handles once open: an append to one writes without waiting a turn. */
  private readonly open = new Map<string, FileHandle>();
  /** A segment file whose last fdatasync failed: its next append reports it (PersistenceError 504). */
  private readonly syncFailed = new Map<string, Error>();

  constructor(readonly directory: string) {
    super();
  }

  fileOf(stateKey: string, segment: Segment = 0): string {
    return join(this.directory, `${stateFileName(stateKey)}.journal${segment === 0 ? '' : '.1'}`);
  }

  /** The segment's file, opened for appending once; its directory entry is made durable when it is created. */
  private handle(file: string): Promise<FileHandle> {
    let handle = this.handles.get(file);
    if (!handle) {
      handle = (async () => {
        await mkdir(this.directory, { recursive: true, mode: 0o700 });
        const fh = await open(file, 'a', 0o600);
        const dir = await open(this.directory, 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
        this.open.set(file, fh);
        return fh;
      })();
      handle.catch(() => this.handles.delete(file));
      this.handles.set(file, handle);
    }
    return handle;
  }

  protected async appendLine(stateKey: string, segment: Segment, line: string): Promise<void> {
    const file = this.fileOf(stateKey, segment);
    try {
      const failed = this.syncFailed.get(file);
      if (failed) {
        this.syncFailed.delete(file);
        throw failed;
      }
      const handle = this.open.get(file) ?? (await this.handle(file));
      await handle.write(line + '\n');
    } catch (error) {
      throw new PersistenceError(504, `Cannot append to the acknowledgement journal ${file}: ${(error as Error).message}`, { cause: error, retryable: true });
    }
  }

  protected override async durable(stateKey: string, segment: Segment): Promise<void> {
    const file = this.fileOf(stateKey, segment);
    const handle = this.open.get(file);
    if (!handle) return; // its append failed before opening it
    try {
      await handle.datasync();
    } catch (error) {
      this.syncFailed.set(file, new Error(`fdatasync of the previous append failed: ${(error as Error).message}`, { cause: error }));
    }
  }

  protected async readLines(stateKey: string, segment: Segment): Promise<string> {
    const file = this.fileOf(stateKey, segment);
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw new PersistenceError(501, `Cannot read the acknowledgement journal ${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  protected async empty(stateKey: string, segment: Segment): Promise<void> {
    const file = this.fileOf(stateKey, segment);
    const open = this.handles.get(file);
    if (!open) {
      // Nothing appended to it by this process: what a crash left in it was read at start and is in the state now.
      await rm(file, { force: true });
      return;
    }
    const handle = await open;
    await handle.truncate(0);
    await handle.datasync();
  }

  async close(): Promise<void> {
    await this.settled(); // the last appends' fdatasyncs
    const handles = [...this.handles.values()];
    this.handles.clear();
    this.open.clear();
    await Promise.all(handles.map((h) => h.then((fh) => fh.close()).catch(() => undefined)));
  }
}

/** RPUSH (or DEL when ARGV[2] is empty) only while the lease key holds exactly this replica's term. */
const FENCED_JOURNAL_WRITE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) else redis.call('RPUSH', KEYS[2], ARGV[2]) end
return 1`;

/**
 * Two Redis lists per service (`<prefix><state key>:journal` and `…:journal:1`): one RPUSH per acknowledged
 * batch; a fold deletes its list. As durable as the server's persistence: with `appendfsync always` each
 * batch is fsync'd by Redis.
 */
export class RedisAckJournal extends SegmentedJournal {
  private readonly redis: LazyRedis;
  /** High availability: the lease term every append and fold is fenced by, as the state's writes are. */
  private fence: (() => LeaseTerm | undefined) | undefined;

  constructor(private readonly options: RedisStoreOptions) {
    super();
    this.redis = new LazyRedis({ host: options.host, port: options.port, password: options.password, db: options.db ?? 0, maxRetriesPerRequest: 3 });
  }

  private listKey(stateKey: string, segment: Segment): string {
    return `${this.options.prefix}${stateKey}:journal${segment === 0 ? '' : ':1'}`;
  }

  private async run<T>(what: string, id: number, fn: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.redis.connected());
    } catch (error) {
      throw new PersistenceError(id, `Redis ${what} of the acknowledgement journal failed at ${this.options.host}:${this.options.port}: ${(error as Error).message}`, { cause: error, retryable: true });
    }
  }

  /** Fences every later append and fold by the lease term `term()` returns (high availability). */
  fenceWith(term: () => LeaseTerm | undefined): void {
    this.fence = term;
  }

  /** RPUSH `line`, or DEL the list when `line` is undefined; fenced by the lease when one is set. */
  private async write(list: string, stateKey: string, line: string | undefined): Promise<void> {
    if (!this.fence) {
      if (line === undefined) await this.run('DEL', 504, (client) => client.del(list));
      else await this.run('RPUSH', 504, (client) => client.rpush(list, line));
      return;
    }
    const term = this.fence();
    if (!term) throw new PersistenceError(LEASE_LOST_ERROR, `Not journaled: this replica does not hold the high-availability lease (state ${stateKey})`);
    const written = await this.run('fenced write', 504, (client) => client.eval(FENCED_JOURNAL_WRITE, 2, leaseKeys(this.options.prefix).lease, list, term.value, line ?? ''));
    if (Number(written) !== 1) throw new PersistenceError(LEASE_LOST_ERROR, `Journal write refused by Redis: the high-availability lease is no longer held under token ${term.token} (state ${stateKey})`);
  }

  protected appendLine(stateKey: string, segment: Segment, line: string): Promise<void> {
    return this.write(this.listKey(stateKey, segment), stateKey, line);
  }

  protected async readLines(stateKey: string, segment: Segment): Promise<string> {
    const lines = await this.run('LRANGE', 511, (client) => client.lrange(this.listKey(stateKey, segment), 0, -1));
    return lines.join('\n');
  }

  protected empty(stateKey: string, segment: Segment): Promise<void> {
    return this.write(this.listKey(stateKey, segment), stateKey, undefined);
  }

  async close(): Promise<void> {
    await this.redis.disconnect();
  }
}

/** The journal beside the store `globals.persistence` configures. */
export function createAckJournal(globals: GlobalsConfig, workDir: string): AckJournal {
  switch (globals.persistence.type) {
    case 'memory':
      return noJournal;
    case 'redis':
      return new RedisAckJournal(redisStoreOptions(globals));
    default:
      return new FileAckJournal(stateDirectory(globals, workDir));
  }
}
