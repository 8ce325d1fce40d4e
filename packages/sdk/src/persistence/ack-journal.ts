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
  /** Appends the keys of one acknowledged batch; resolves once they are durable (fsync'd, or in Redis). */
  append(stateKey: string, keys: readonly string[]): Promise<void>;
  /** Every key appended since the last fold, oldest first (a line torn by a crash is skipped). */
  read(stateKey: string): Promise<string[]>;
  /** The state saved just now holds every key appended so far: empty the journal. */
  fold(stateKey: string): Promise<void>;
  close(): Promise<void>;
}

/** `persistence.type: memory` and read-only runs (`--check`, `--show-state`): nothing outlives the process. */
export const noJournal: AckJournal = {
  append: async () => undefined,
  read: async () => [],
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

/**
 * One append-only file per service beside its state file (`<state file>.journal`, mode 0600): a JSON array
 * of keys per acknowledged batch, fdatasync'd before `append` resolves; truncated at each fold.
 */
export class FileAckJournal implements AckJournal {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  constructor(readonly directory: string) {}

  fileOf(stateKey: string): string {
    return join(this.directory, `${stateFileName(stateKey)}.journal`);
  }

  private handle(stateKey: string): Promise<FileHandle> {
    let handle = this.handles.get(stateKey);
    if (!handle) {
      handle = mkdir(this.directory, { recursive: true, mode: 0o700 }).then(() => open(this.fileOf(stateKey), 'a', 0o600));
      handle.catch(() => this.handles.delete(stateKey));
      this.handles.set(stateKey, handle);
    }
    return handle;
  }

  async append(stateKey: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      const handle = await this.handle(stateKey);
      await handle.write(redact(JSON.stringify(keys)) + '\n');
      await handle.datasync();
    } catch (error) {
      throw new PersistenceError(504, `Cannot append to the acknowledgement journal ${this.fileOf(stateKey)}: ${(error as Error).message}`, { cause: error, retryable: true });
    }
  }

  async read(stateKey: string): Promise<string[]> {
    try {
      return parseLines(await readFile(this.fileOf(stateKey), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new PersistenceError(501, `Cannot read the acknowledgement journal ${this.fileOf(stateKey)}: ${(error as Error).message}`, { cause: error });
    }
  }

  async fold(stateKey: string): Promise<void> {
    const open = this.handles.get(stateKey);
    if (!open) {
      // Nothing appended by this process: a journal left by a crash was read at start and is in the state now.
      await rm(this.fileOf(stateKey), { force: true });
      return;
    }
    const handle = await open;
    await handle.truncate(0);
    await handle.datasync();
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map((h) => h.then((fh) => fh.close()).catch(() => undefined)));
  }
}

/**
 * A Redis list per service (`<prefix><state key>:journal`): one RPUSH per acknowledged batch, deleted at each
 * fold. As durable as the server's persistence: with `appendfsync always` each batch is fsync'd by Redis.
 */
/** RPUSH (or DEL when ARGV[2] is empty) only while the lease key holds exactly this replica's term. */
const FENCED_JOURNAL_WRITE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) else redis.call('RPUSH', KEYS[2], ARGV[2]) end
return 1`;

export class RedisAckJournal implements AckJournal {
  private readonly redis: LazyRedis;
  /** High availability: the lease term every append and fold is fenced by, as the state's writes are. */
  private fence: (() => LeaseTerm | undefined) | undefined;

  constructor(private readonly options: RedisStoreOptions) {
    this.redis = new LazyRedis({ host: options.host, port: options.port, password: options.password, db: options.db ?? 0, maxRetriesPerRequest: 3 });
  }

  private listKey(stateKey: string): string {
    return `${this.options.prefix}${stateKey}:journal`;
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
  private async write(stateKey: string, line: string | undefined): Promise<void> {
    const list = this.listKey(stateKey);
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

  async append(stateKey: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.write(stateKey, redact(JSON.stringify(keys)));
  }

  async read(stateKey: string): Promise<string[]> {
    const lines = await this.run('LRANGE', 511, (client) => client.lrange(this.listKey(stateKey), 0, -1));
    return parseLines(lines.join('\n'));
  }

  async fold(stateKey: string): Promise<void> {
    await this.write(stateKey, undefined);
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
