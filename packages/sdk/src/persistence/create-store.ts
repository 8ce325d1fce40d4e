import { isAbsolute, join } from 'node:path';
import type { GlobalsConfig } from '../config/load-config.js';
import { FilesystemStateStore } from './filesystem-store.js';
import { MemoryStateStore } from './memory-store.js';
import { RedisStateStore, type RedisStoreOptions } from './redis-store.js';
import type { StateStore } from './state-store.js';

/** The store `globals.persistence` configures; filesystem paths resolve against the working directory. */
export function createStateStore(globals: GlobalsConfig, workDir: string): StateStore {
  switch (globals.persistence.type) {
    case 'memory':
      return new MemoryStateStore();
    case 'redis':
      return new RedisStateStore(redisStoreOptions(globals));
    default:
      return new FilesystemStateStore(stateDirectory(globals, workDir));
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

/** The directory of `persistence.type: filesystem` (state files, acknowledgement journals). */
export function stateDirectory(globals: GlobalsConfig, workDir: string): string {
  const dir = String(globals.persistence.config['directory_name'] ?? 'state');
  return isAbsolute(dir) ? dir : join(workDir, dir);
}
