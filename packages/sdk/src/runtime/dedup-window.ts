/**
 * A bounded set of recently delivered event keys, in insertion order, so that overlapping windows (look-back
 * for late events) and restarts after a crash do not deliver the same event twice. Persisted with the state.
 */
export class DedupWindow {
  private readonly keys: Set<string>;

  constructor(
    readonly capacity: number,
    initial: Iterable<string> = [],
  ) {
    this.keys = new Set();
    for (const key of initial) this.add(key);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      // Sets iterate in insertion order: the first key is the oldest.
      const oldest = this.keys.values().next().value as string;
      this.keys.delete(oldest);
    }
  }

  get size(): number {
    return this.keys.size;
  }

  toJSON(): string[] {
    return [...this.keys];
  }
}
