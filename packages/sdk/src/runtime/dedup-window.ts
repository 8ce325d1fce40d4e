/**
 * A bounded set of recently delivered event keys, oldest evicted first, so that overlapping windows
 * (look-back for late events) and restarts after a crash do not deliver the same event twice. Persisted
 * with the state (`toState`, read back by `savedDedupKeys`).
 *
 * Packed, because a service keeps two of these (submitted and acknowledged keys) of up to 100,000 keys
 * each for as long as it runs: a `Set` entry, a ring slot and a string object per key cost 145–360 bytes a
 * key for the two windows (docs/benchmarks.md, "the dedup window, wave 6"). Here every key's characters live
 * in one byte arena, written in FIFO order as a circular buffer: one byte per character, then a '\n', when
 * all of a key's characters are below U+0100, else two bytes per character (exact either way, so the same
 * keys in give the same answers). The ring's slots hold each key's offset, length, hash and flags in typed
 * arrays; an open-addressing table (linear probing, deletion by backward shift, so no tombstones pile up)
 * maps a hash to its slot. About 20 bytes a key plus its characters, and no object per key for the garbage
 * collector to trace. The '\n' after each key makes the arena, read in runs, the state's saved form.
 */

/** Slots and table start small and double up to the capacity, so a large window that stays empty costs little. */
const INITIAL_SLOTS = 1024;
const INITIAL_ARENA_BYTES = 16 * 1024;
/** How the state holds the keys since 2026-12: one string, oldest first, joined by this. */
const SEPARATOR = '\n';
const SEPARATOR_BYTE = 0x0a;
/** Slot flags: the key is stored two bytes a character; it cannot be joined (empty, or holds the separator). */
const WIDE = 1;
const UNJOINABLE = 2;

/** What a state's `dedup` holds: the keys joined (`toState`), or a list (earlier versions, and odd keys). */
export type SavedDedupKeys = string | string[];

/** The keys a state's `dedup` holds, oldest first, whichever form it was saved in. */
export function savedDedupKeys(saved: unknown): string[] {
  if (typeof saved === 'string') return saved.split(SEPARATOR);
  return Array.isArray(saved) ? saved.filter((key): key is string => typeof key === 'string') : [];
}

export class DedupWindow {
  /** Ring slots: where each key's characters start in the arena, how many there are, its hash and flags. */
  private starts: Int32Array;
  private lengths: Int32Array;
  private hashes: Int32Array;
  private flags: Uint8Array;
  /** Keys held that the joined form cannot carry: while there are any, `toState` writes a list. */
  private unjoinable = 0;
  /** Open addressing: slot + 1, 0 = empty; at most half full. */
  private table: Int32Array;
  private arena: Buffer;
  /** Where the next key's characters go in the arena. */
  private head = 0;
  private count = 0;
  /** The slot of the oldest key, and where the next key goes (equal once the window is full). */
  private first = 0;
  private next = 0;
  /** `has` then `add` of the same key (the runner's pattern) hashes it once. */
  private lastKey: string | undefined;
  private lastHash = 0;

  constructor(
    readonly capacity: number,
    initial: Iterable<string> = [],
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`A dedup window holds at least one key (got ${capacity})`);
    const slots = Math.min(capacity, INITIAL_SLOTS);
    this.starts = new Int32Array(slots);
    this.lengths = new Int32Array(slots);
    this.hashes = new Int32Array(slots);
    this.flags = new Uint8Array(slots);
    this.table = new Int32Array(tableSizeFor(slots));
    this.arena = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
    for (const key of initial) this.add(key);
  }

  has(key: string): boolean {
    return this.find(key, this.hashOf(key)) >= 0;
  }

  add(key: string): void {
    const hash = this.hashOf(key);
    if (this.find(key, hash) >= 0) return;
    if (this.count === this.capacity) this.evict(this.next);
    else if (this.count === this.starts.length) this.growSlots();
    const slot = this.next;
    const flags = flagsOf(key);
    const bytes = storedBytes(key.length, flags);
    const at = this.reserve(bytes);
    const arena = this.arena;
    if (flags & WIDE) for (let i = 0; i < key.length; i++) arena.writeUInt16LE(key.charCodeAt(i), at + i * 2);
    else {
      for (let i = 0; i < key.length; i++) arena[at + i] = key.charCodeAt(i);
      arena[at + key.length] = SEPARATOR_BYTE;
    }
    this.head = at + bytes;
    this.starts[slot] = at;
    this.lengths[slot] = key.length;
    this.hashes[slot] = hash;
    this.flags[slot] = flags;
    if (flags & UNJOINABLE) this.unjoinable++;
    this.insert(slot, hash);
    this.count++;
    this.next = (slot + 1) % this.capacity;
  }

  get size(): number {
    return this.count;
  }

  /**
   * The keys for the state, oldest first: one string joined by '\n', read from the arena in a few runs
   * (the arena holds each Latin-1 key followed by a '\n'), so a save makes no string per key; a list when
   * a key is empty or holds a '\n' (the joined form could not tell them apart). `savedDedupKeys` reads both.
   */
  toState(): SavedDedupKeys {
    if (this.count === 0 || this.unjoinable > 0) return this.toJSON();
    const parts: string[] = [];
    const arena = this.arena;
    const slots = this.starts.length;
    let runStart = 0;
    let runEnd = -1;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.first + i) % slots;
      const at = this.starts[slot]!;
      const length = this.lengths[slot]!;
      if ((this.flags[slot]! & WIDE) === 0) {
        if (at !== runEnd) {
          if (runEnd >= 0) parts.push(arena.toString('latin1', runStart, runEnd));
          runStart = at;
        }
        runEnd = at + length + 1;
        continue;
      }
      if (runEnd >= 0) parts.push(arena.toString('latin1', runStart, runEnd));
      runEnd = -1;
      parts.push(arena.toString('utf16le', at, at + length * 2) + SEPARATOR);
    }
    if (runEnd >= 0) parts.push(arena.toString('latin1', runStart, runEnd));
    const joined = parts.length === 1 ? parts[0]! : parts.join('');
    return joined.slice(0, -1); // the last key's separator
  }

  /** Oldest first, as the constructor takes them back. */
  toJSON(): string[] {
    const out = new Array<string>(this.count);
    const slots = this.starts.length;
    for (let i = 0; i < this.count; i++) out[i] = this.keyAt((this.first + i) % slots);
    return out;
  }

  private keyAt(slot: number): string {
    const start = this.starts[slot]!;
    const length = this.lengths[slot]!;
    return this.flags[slot]! & WIDE ? this.arena.toString('utf16le', start, start + length * 2) : this.arena.toString('latin1', start, start + length);
  }

  private hashOf(key: string): number {
    if (key === this.lastKey) return this.lastHash;
    // FNV-1a over the UTF-16 code units, then murmur3's finaliser so the table's low bits are well mixed.
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    this.lastKey = key;
    this.lastHash = h;
    return h;
  }

  private find(key: string, hash: number): number {
    const table = this.table;
    const mask = table.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = table[i]!;
      if (entry === 0) return -1;
      const slot = entry - 1;
      if (this.hashes[slot] === hash && this.equals(slot, key)) return slot;
    }
  }

  private equals(slot: number, key: string): boolean {
    if (this.lengths[slot] !== key.length) return false;
    const arena = this.arena;
    const at = this.starts[slot]!;
    if ((this.flags[slot]! & WIDE) === 0) {
      for (let i = 0; i < key.length; i++) if (arena[at + i] !== key.charCodeAt(i)) return false;
      return true;
    }
    for (let i = 0; i < key.length; i++) if (arena.readUInt16LE(at + i * 2) !== key.charCodeAt(i)) return false;
    return true;
  }

  private insert(slot: number, hash: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let i = hash & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = slot + 1;
  }

  /** Drops the oldest key (in `slot`) from the table; its arena bytes are reused as the head wraps onto them. */
  private evict(slot: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let i = this.hashes[slot]! & mask;
    while (table[i] !== slot + 1) i = (i + 1) & mask;
    // Backward shift: move later entries of the probe run into the hole unless their home lies after it.
    for (let j = (i + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[table[j]! - 1]! & mask;
      const movable = i <= j ? home <= i || home > j : home <= i && home > j;
      if (movable) {
        table[i] = table[j]!;
        i = j;
      }
    }
    table[i] = 0;
    if (this.flags[slot]! & UNJOINABLE) this.unjoinable--;
    this.count--;
    this.first = (slot + 1) % this.capacity;
  }

  /**
   * Where `bytes` free bytes start in the arena. The live keys occupy it circularly from the oldest key's
   * start to `head`; a key never wraps around the end (the end's gap is skipped); a full arena doubles and
   * is compacted in FIFO order.
   */
  private reserve(bytes: number): number {
    if (this.count === 0) return bytes <= this.arena.length ? 0 : this.grow(bytes);
    const tail = this.starts[this.first]!;
    if (this.head > tail) {
      // [tail, head) is live: the end of the arena is free, then its start up to the oldest key.
      if (bytes <= this.arena.length - this.head) return this.head;
      if (bytes <= tail) return 0;
    } else if (bytes <= tail - this.head) {
      // Wrapped: [head, tail) is free. (head === tail: full, or only empty keys live; growing compacts.)
      return this.head;
    }
    return this.grow(bytes);
  }

  /**
   * Copies the live keys to the start of a new arena, oldest first: twice as large once they would fill
   * more than half of it (the same size when the space was only cut in two by the wrap).
   */
  private grow(bytes: number): number {
    const old = this.arena;
    const needed = this.usedBytes() + bytes;
    const arena = Buffer.allocUnsafe(needed * 2 > old.length ? Math.max(old.length * 2, needed) : old.length);
    let at = 0;
    const slots = this.starts.length;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.first + i) % slots;
      const size = storedBytes(this.lengths[slot]!, this.flags[slot]!);
      old.copy(arena, at, this.starts[slot]!, this.starts[slot]! + size);
      this.starts[slot] = at;
      at += size;
    }
    this.arena = arena;
    this.head = at;
    return at;
  }

  private usedBytes(): number {
    let total = 0;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.first + i) % this.starts.length;
      total += storedBytes(this.lengths[slot]!, this.flags[slot]!);
    }
    return total;
  }

  /** Before the window first fills the slots are 0..count-1 in order, so growing is a copy. */
  private growSlots(): void {
    const slots = Math.min(this.capacity, this.starts.length * 2);
    const grown = (array: Int32Array): Int32Array => {
      const bigger = new Int32Array(slots);
      bigger.set(array);
      return bigger;
    };
    this.starts = grown(this.starts);
    this.lengths = grown(this.lengths);
    this.hashes = grown(this.hashes);
    const flags = new Uint8Array(slots);
    flags.set(this.flags);
    this.flags = flags;
    this.table = new Int32Array(tableSizeFor(slots));
    for (let slot = 0; slot < this.count; slot++) this.insert(slot, this.hashes[slot]!);
  }
}

/** A power of two at least twice the slots: linear probing stays short at half load. */
function tableSizeFor(slots: number): number {
  let size = 2;
  while (size < slots * 2) size *= 2;
  return size;
}

function flagsOf(key: string): number {
  let flags = key.length === 0 ? UNJOINABLE : 0;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0xff) flags |= WIDE;
    else if (code === SEPARATOR_BYTE) flags |= UNJOINABLE;
  }
  return flags;
}

/** A Latin-1 key's characters and its separator, or a wider key's UTF-16 code units. */
function storedBytes(length: number, flags: number): number {
  return flags & WIDE ? length * 2 : length + 1;
}
