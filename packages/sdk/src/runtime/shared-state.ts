import type { JsonObject, JsonValue, StateStore } from '../persistence/state-store.js';

/**
 * Input-scoped persisted values (the request limiters' budgets), one state entry per input:
 * `input;id;__input__`. The SDK's own: services keep their values in `ctx.extra`.
 */
export class PersistedSharedState {
  private values: JsonObject = {};
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StateStore,
    private readonly key: string,
  ) {}

  async load(): Promise<void> {
    try {
      this.values = (await this.store.load(this.key)) ?? {};
    } catch {
      this.values = {};
    }
  }

  get<T extends JsonValue>(key: string): T | undefined {
    return this.values[key] as T | undefined;
  }

  set(key: string, value: JsonValue): void {
    this.values[key] = value;
  }

  /** Saves are chained so two services flushing at once never write an older snapshot last. */
  flush(): Promise<void> {
    const snapshot = { ...this.values };
    this.writing = this.writing.then(() => this.store.save(this.key, snapshot)).catch(() => undefined);
    return this.writing;
  }

  toJSON(): JsonObject {
    return { ...this.values };
  }
}
