import type { Redis, RedisOptions } from 'ioredis';

/**
 * One ioredis client, created at the first command. ioredis is loaded only by a collector whose persistence
 * is Redis: importing it costs ~5 MiB of resident memory and ~130 ms of CPU at start (docs/benchmarks.md),
 * which every collector on a disk used to pay.
 */
export class LazyRedis {
  private client: Promise<Redis> | undefined;

  constructor(private readonly options: RedisOptions) {}

  /** The client, connecting it on first use (`lazyConnect`: nothing is sent before the first command). */
  async connected(): Promise<Redis> {
    this.client ??= import('ioredis').then(({ Redis }) => {
      const client = new Redis({ ...this.options, lazyConnect: true });
      // ioredis reports reconnects as 'error' events; an unhandled one would crash the process.
      client.on('error', () => undefined);
      return client;
    });
    const client = await this.client;
    if (client.status === 'wait') await client.connect();
    return client;
  }

  async disconnect(): Promise<void> {
    (await this.client?.catch(() => undefined))?.disconnect();
  }
}
