import type { JsonObject, StateStore } from './state-store.js';
import { stateTextPieces, type SavedState } from './state-text.js';

/** Keeps state for the life of the process only (`persistence.type: memory`), as the DCSDK does. */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  private readonly states = new Map<string, string>();

  async load(key: string): Promise<JsonObject | undefined> {
    const text = this.states.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as JsonObject);
  }
  async save(key: string, state: SavedState): Promise<void> {
    // Stored serialised so a caller mutating its object later cannot change what was "saved".
    this.states.set(key, stateTextPieces(state, 0).join(''));
  }
  async delete(key: string): Promise<void> {
    this.states.delete(key);
  }
  async keys(): Promise<string[]> {
    return [...this.states.keys()];
  }
  async close(): Promise<void> {}
}
