import { isAbsolute, join } from 'node:path';
import type { GlobalsConfig } from '../config/load-config.js';
import { FilesystemStateStore } from './filesystem-store.js';
import { MemoryStateStore } from './memory-store.js';
import { RedisStateStore, type RedisStoreOptions } from './redis-store.js';
import type { StateStore } from './state-store.js';

/** The store `globals.persistence` configures; filesystem paths resolve against the working directory. */
export function createStateStore(globals: GlobalsConfig, workDir: string): StateStore {
  const { type, config } = globals.persistence;
  switch (type) {
    case 'memory':
      return new MemoryStateStore();
    case 'redis':
      return new RedisStateStore(redisStoreOptions(globals));
    default: {
      const dir = String(config['directory_name'] ?? 'state');
      return new FilesystemStateStore(isAbsolute(dir) ? dir : join(workDir, dir));
    }
  }
}

/** The Redis connection of `persistence.type: redis` (the state store and the acknowledgement journal). */
export function redisStoreOptions(globals: GlobalsConfig): RedisStoreOptions {
  const { config } = globals.persistence;
  return {
    host: String(config['host'] ?? '127.0.0.1'),
    port: Number(config['port'] ?? 6379),
    password: config['password'] as string | undefined,
    db: config['db'] as number | undefined,
    prefix: String(config['prefix'] ?? `devo-collector:${globals.name}:${globals.id}:`),
  };
}
