import { Redis } from 'ioredis';
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
  private readonly client: Redis;

  constructor(private readonly options: RedisStoreOptions) {
    this.client = new Redis({
      host: options.host,
      port: options.port,
      password: options.password,
      db: options.db ?? 0,
      lazyConnect: true,
      maxRetriesPerRequest: 3,
      enableOfflineQueue: true,
    });
    // ioredis reports reconnects as 'error' events; an unhandled one would crash the process.
    this.client.on('error', () => undefined);
  }

  private key(key: string): string {
    return `${this.options.prefix}${key}`;
  }

  private async run<T>(what: string, id: number, fn: () => Promise<T>): Promise<T> {
    try {
      if (this.client.status === 'wait') await this.client.connect();
      return await fn();
    } catch (error) {
      throw new PersistenceError(id, `Redis ${what} failed at ${this.options.host}:${this.options.port}: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
      });
    }
  }

  async load(key: string): Promise<JsonObject | undefined> {
    const text = await this.run('GET', 511, () => this.client.get(this.key(key)));
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as JsonObject;
    } catch (error) {
      throw new PersistenceError(502, `The state in Redis key ${this.key(key)} is corrupt: ${(error as Error).message}`);
    }
  }

  async save(key: string, state: JsonObject): Promise<void> {
    await this.run('SET', 512, () => this.client.set(this.key(key), redact(JSON.stringify(state))));
  }

  async delete(key: string): Promise<void> {
    await this.run('DEL', 512, () => this.client.del(this.key(key)));
  }

  async keys(): Promise<string[]> {
    const found = await this.run('SCAN', 511, () => this.client.keys(`${this.options.prefix}*`));
    return found.map((k) => k.slice(this.options.prefix.length));
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
