import type { JsonObject } from './json-value.js';
import type { SavedState } from './state-text.js';

export type { JsonObject, JsonValue } from './json-value.js';

/**
 * Where services keep their position. Keys are `input;id;service` (the DCSDK's unique id); a store must make
 * `save` atomic: after a crash, `load` returns the old or the new object, never a torn one.
 */
export interface StateStore {
  readonly kind: string;
  load(key: string): Promise<JsonObject | undefined>;
  /** A top-level `PlainJsonString` is saved as its text (read back as a string). */
  save(key: string, state: SavedState): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key held, for `--show-state`. */
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

export function stateKey(inputName: string, inputId: string, serviceName: string): string {
  return `${inputName};${inputId};${serviceName}`;
}
