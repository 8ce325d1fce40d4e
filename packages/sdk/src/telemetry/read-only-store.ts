import { FilesystemStateStore } from '../persistence/filesystem-store.js';
import type { JsonObject, StateStore } from '../persistence/state-store.js';

/**
 * A view of a state store that reads and never writes, for `--check` and `--show-state` ("touches no
 * state"): setup and probes may spend request budget or initialise a fresh state, and none of it may reach
 * the files a running collector resumes from.
 */
export function readOnlyStateStore(store: StateStore): StateStore {
  return {
    kind: store.kind,
    // The filesystem store moves a corrupt file aside on load; a read-only look must leave it where it is.
    load: store instanceof FilesystemStateStore ? (key) => store.peek(key) : (key) => store.load(key),
    save: async (_key: string, _state: JsonObject) => undefined,
    delete: async (_key: string) => undefined,
    keys: () => store.keys(),
    close: () => store.close(),
  };
}

