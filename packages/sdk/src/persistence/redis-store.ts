import type { Redis } from 'ioredis';
import { PersistenceError } from '../errors/collector-error.js';
import { redact } from '../secrets/redactor.js';
import type { JsonObject, StateStore } from './state-store.js';

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
  /**
   * Created at the first command: ioredis (about 20 MiB of resident code) is loaded only by collectors that
   * configure Redis persistence.
   */
  private client: Promise<Redis> | undefined;
  private closed = false;

  constructor(private readonly options: RedisStoreOptions) {}

  private connection(): Promise<Redis> {
    this.client ??= import('ioredis').then(({ Redis }) => {
      const client = new Redis({
        host: this.options.host,
        port: this.options.port,
        password: this.options.password,
        db: this.options.db ?? 0,
        lazyConnect: true,
        maxRetriesPerRequest: 3,
        enableOfflineQueue: true,
      });
      // ioredis reports reconnects as 'error' events; an unhandled one would crash the process.
      client.on('error', () => undefined);
      return client;
    });
    return this.client;
  }

  private key(key: string): string {
    return `${this.options.prefix}${key}`;
  }

  private async run<T>(what: string, id: number, fn: (client: Redis) => Promise<T>): Promise<T> {
    try {
      if (this.closed) throw new Error('the store was closed');
      const client = await this.connection();
      if (client.status === 'wait') await client.connect();
      return await fn(client);
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

  async save(key: string, state: JsonObject): Promise<void> {
    await this.run('SET', 512, (client) => client.set(this.key(key), redact(JSON.stringify(state))));
  }

  async delete(key: string): Promise<void> {
    await this.run('DEL', 512, (client) => client.del(this.key(key)));
  }

  async keys(): Promise<string[]> {
    const found = await this.run('SCAN', 511, (client) => client.keys(`${this.options.prefix}*`));
    return found.map((k) => k.slice(this.options.prefix.length));
  }

  async close(): Promise<void> {
    this.closed = true;
    (await this.client)?.disconnect();
  }
}
