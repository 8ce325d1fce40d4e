import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PersistenceError } from '../errors/collector-error.js';
import { FilesystemStateStore, stateFileName } from '../persistence/filesystem-store.js';
import type { JsonObject, StateStore } from '../persistence/state-store.js';

/**
 * A view of a state store that reads and never writes, for `--check` and `--show-state` ("touches no
 * state"): setup and probes may spend request budget or initialise a fresh state, and none of it may reach
 * the files a running collector resumes from.
 */
export function readOnlyStateStore(store: StateStore): StateStore {
  return {
    kind: store.kind,
    load: store instanceof FilesystemStateStore ? (key) => loadWithoutRepair(store, key) : (key) => store.load(key),
    save: async (_key: string, _state: JsonObject) => undefined,
    delete: async (_key: string) => undefined,
    keys: () => store.keys(),
    close: () => store.close(),
  };
}

/** The filesystem store moves a corrupt file aside on load; a read-only look must leave it where it is. */
async function loadWithoutRepair(store: FilesystemStateStore, key: string): Promise<JsonObject | undefined> {
  const file = join(store.directory, stateFileName(key));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PersistenceError(501, `Cannot read the state file ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as JsonObject;
  } catch (error) {
    throw new PersistenceError(502, `The state file ${file} is corrupt (${(error as Error).message}); a running collector will move it aside`, { cause: error });
  }
}
