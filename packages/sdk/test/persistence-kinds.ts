import { join } from 'node:path';
import { FileAckJournal, FilesystemStateStore, RedisAckJournal, RedisStateStore, type AckJournal, type StateStore } from '@collector/sdk/host';
import type { RedisServer } from '@collector/testkit';

/**
 * The `persistence` a child collector is configured with (`directory_name: state` under its work directory, or
 * Redis under `prefix`), and the store and journal a test reads the same state back with.
 */
export async function persistenceOfKind(
  kind: 'filesystem' | 'redis',
  workDir: string,
  redis: () => Promise<RedisServer>,
  prefix: string,
): Promise<{ persistence: Record<string, unknown>; store: StateStore; journal: AckJournal }> {
  if (kind === 'filesystem') {
    const directory = join(workDir, 'state');
    return { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, store: new FilesystemStateStore(directory), journal: new FileAckJournal(directory) };
  }
  const { host, port } = await redis();
  return {
    persistence: { type: 'redis', config: { host, port, prefix } },
    store: new RedisStateStore({ host, port, prefix }),
    journal: new RedisAckJournal({ host, port, prefix }),
  };
}
