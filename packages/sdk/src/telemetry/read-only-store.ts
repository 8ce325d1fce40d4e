import type { JsonObject, StateStore } from '../persistence/state-store.js';

/**
 * A view of a state store that reads and never writes, for `--check` and `--show-state` ("touches no
 * state"): setup and probes may spend request budget or initialise a fresh state, and none of it may reach
 * the files a running collector resumes from.
 */
export function readOnlyStateStore(store: StateStore): StateStore {
  return {
    kind: store.kind,
    load: (key) => store.load(key),
    save: async (_key: string, _state: JsonObject) => undefined,
    delete: async (_key: string) => undefined,
    keys: () => store.keys(),
    close: () => store.close(),
  };
}
