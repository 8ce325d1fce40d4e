import type { Redis } from 'ioredis';
import { PersistenceError } from '../errors/collector-error.js';
import type { JsonObject, StateStore } from './state-store.js';
import { stateTextPieces, type SavedState } from './state-text.js';
import { LazyRedis } from './lazy-redis.js';
import { FENCED_WRITE, HA_KEY_MARK, leaseKeys, type LeaseTerm } from './redis-lease.js';

/** PersistenceError ID of a write refused because this replica does not hold the lease (SDK README). */
export const LEASE_LOST_ERROR = 520;

export interface RedisStoreOptions {
  host: string;
  port: number;
  password?: string;
  db?: number;
  /** Key prefix, so several collectors can share one server. */
  prefix: string;
}

/** State in Redis (`persistence.type: redis`), for collectors that run without a disk. */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis';
  private readonly redis: LazyRedis;
  /**
   * High availability: the lease term every write is fenced by. Set, a write happens only while Redis
   * still holds exactly this term (checked atomically with the write); no term, no write.
   */
  private fence: (() => LeaseTerm | undefined) | undefined;

  constructor(private readonly options: RedisStoreOptions) {
    this.redis = new LazyRedis({
      host: options.host,
      port: options.port,
      password: options.password,
      db: options.db ?? 0,
      maxRetriesPerRequest: 3,
      enableOfflineQueue: true,
    });
  }

  private key(key: string): string {
    return `${this.options.prefix}${key}`;
  }

  /** Fences every later write by the lease term `term()` returns (high availability). */
  fenceWith(term: () => LeaseTerm | undefined): void {
    this.fence = term;
  }

  /** The connected client, for the lease (same server, prefix and credentials as the state). */
  connection(): Promise<Redis> {
    return this.run('CONNECT', 511, async (client) => client);
  }

  get prefix(): string {
    return this.options.prefix;
  }

  private async run<T>(what: string, id: number, fn: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.redis.connected());
    } catch (error) {
      throw new PersistenceError(id, `Redis ${what} failed at ${this.options.host}:${this.options.port}: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
      });
    }
  }

  async load(key: string): Promise<JsonObject | undefined> {
    const text = await this.run('GET', 511, (client) => client.get(this.key(key)));
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as JsonObject;
    } catch (error) {
      throw new PersistenceError(502, `The state in Redis key ${this.key(key)} is corrupt: ${(error as Error).message}`);
    }
  }

  async save(key: string, state: SavedState): Promise<void> {
    // One string for the command, but the dedup keys' text is not copied through JSON.stringify on the way.
    await this.write(key, stateTextPieces(state, 0).join(''));
  }

  async delete(key: string): Promise<void> {
    await this.write(key, undefined);
  }

  /** Every write goes through here, so none can bypass the fence. `undefined` deletes. */
  private async write(key: string, text: string | undefined): Promise<void> {
    if (!this.fence) {
      if (text === undefined) await this.run('DEL', 512, (client) => client.del(this.key(key)));
      else await this.run('SET', 512, (client) => client.set(this.key(key), text));
      return;
    }
    const term = this.fence();
    if (!term) throw new PersistenceError(LEASE_LOST_ERROR, `Not written: this replica does not hold the high-availability lease (state ${key})`);
    const { lease, writers } = leaseKeys(this.options.prefix);
    const written = await this.run('fenced write', 512, (client) => client.eval(FENCED_WRITE, 3, lease, writers, this.key(key), term.value, term.token, text ?? ''));
    if (Number(written) !== 1) {
      throw new PersistenceError(LEASE_LOST_ERROR, `Write refused by Redis: the high-availability lease is no longer held under token ${term.token} (state ${key})`);
    }
  }

  /** Which lease token last wrote each state (fenced writes only), by state key. */
  async writers(): Promise<Record<string, number>> {
    const { writers } = leaseKeys(this.options.prefix);
    const all = await this.run('HGETALL', 511, (client) => client.hgetall(writers));
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k.slice(this.options.prefix.length), Number(v)]));
  }

  async keys(): Promise<string[]> {
    const found = await this.run('SCAN', 511, (client) => client.keys(`${this.options.prefix}*`));
    return found.map((k) => k.slice(this.options.prefix.length)).filter((k) => !k.startsWith(HA_KEY_MARK));
  }

  async close(): Promise<void> {
    await this.redis.disconnect();
  }
}
