/**
 * A bounded set of recently delivered event keys, oldest evicted first, so that overlapping windows
 * (look-back for late events) and restarts after a crash do not deliver the same event twice. Persisted
 * with the state.
 *
 * The eviction order lives in a ring buffer, not in the Set's insertion order: `set.values().next()` on a
 * V8 Set that has seen many deletions walks past their tombstones, which made every eviction slower the
 * longer a collector ran.
 */
export class DedupWindow {
  private readonly keys = new Set<string>();
  private readonly ring: (string | undefined)[];
  /** Where the next key goes; once the window is full, also where the oldest key is. */
  private next = 0;

  constructor(
    readonly capacity: number,
    initial: Iterable<string> = [],
  ) {
    this.ring = new Array<string | undefined>(capacity);
    for (const key of initial) this.add(key);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    if (this.keys.has(key)) return;
    const oldest = this.ring[this.next];
    if (oldest !== undefined) this.keys.delete(oldest);
    this.ring[this.next] = key;
    this.next = (this.next + 1) % this.capacity;
    this.keys.add(key);
  }

  get size(): number {
    return this.keys.size;
  }

  /** Oldest first, as the constructor takes them back. */
  toJSON(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const key = this.ring[(this.next + i) % this.capacity];
      if (key !== undefined) out.push(key);
    }
    return out;
  }
}
