/**
 * A bounded set of recently delivered event keys, oldest evicted first, so that overlapping windows
 * (look-back for late events) and restarts after a crash do not deliver the same event twice. Persisted
 * with the state (`toState`, read back by `savedDedupKeys`).
 *
 * Packed, because a service keeps one of these (its acknowledged keys) of up to 100,000 keys for as long as
 * it runs: a `Set` entry, a ring slot and a string object per key cost 45–70 bytes a key (docs/benchmarks.md,
 * "the dedup window, wave 6", measured for the two windows a service kept then). Here every key's characters live
 * in one byte arena, written in FIFO order as a circular buffer: one byte per character and a space when
 * all of a key's characters are below U+0100, else two bytes per character (exact either way, so the same
 * keys in give the same answers and the same evictions). The ring's slots hold each key's offset, length,
 * hash and flags in typed arrays; an open-addressing table (linear probing, deletion by backward shift, so
 * no tombstones pile up) maps a hash to its slot: about 20 bytes a key plus its characters, and no object
 * per key for the garbage collector to trace. The space after each key makes the arena, read in a few
 * runs, the state's saved form (`toState`).
 */

import { PlainJsonString } from '../persistence/state-text.js';

/** Slots and table start small and double up to the capacity, so a large window that stays empty costs little. */
const INITIAL_SLOTS = 1024;
const INITIAL_ARENA_BYTES = 16 * 1024;
/**
 * The arena grows to at most what the full window takes at the keys' average size, times this: the room a
 * full window's ring moves in (a new key goes after the newest, in what the oldest keys left).
 */
const ARENA_SLACK = 1.25;
/** Node's Buffer methods behind `toString('latin1' | 'utf16le', start, end)`, without its argument checks (a save decodes every key). */
interface DirectSlices {
  latin1Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
}

/**
 * Slot flags: the key is stored two bytes a character (it has one above U+00FF); it holds a space; it holds a
 * character JSON escapes (`"`, `\`, a control character), or is wide (it may hold a lone surrogate).
 */
const WIDE = 1;
const HAS_SPACE = 2;
const ESCAPED = 4;
/**
 * Follows each key in the state's joined form (and each Latin-1 key in the arena). Vendor ids, GUIDs and
 * digests have none, and unlike a newline a space needs no escape in JSON: the joined string is written
 * as it is, one string instead of one per key.
 */
const SEPARATOR = ' ';
const SPACE = 0x20;
const EXCLAMATION = 0x21;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What a state's `dedup` holds: the keys, each followed by a space (`toState`), or a list (earlier versions, and keys with a space). */
export type SavedDedupKeys = string | string[];

/** The keys a state's `dedup` holds, oldest first, whichever form it was saved in. */
export function savedDedupKeys(saved: unknown): string[] {
  if (typeof saved === 'string') return saved.split(SEPARATOR).slice(0, -1); // the last key's separator ends the string
  return Array.isArray(saved) ? saved.filter((key): key is string => typeof key === 'string') : [];
}

export class DedupWindow {
  /**
   * Ring slots: where each key's characters start in the arena, how many there are, its hash and flags. The
   * lengths take one byte a key until a key longer than 255 characters arrives (vendor ids, GUIDs and digests
   * are far shorter), then two, then four (`widenLengths`): 3 of the 20 bytes a key cost in the two windows.
   */
  private starts: Int32Array;
  private lengths: Uint8Array | Uint16Array | Int32Array;
  /** The longest length `lengths` holds. */
  private maxLength = 0xff;
  private hashes: Int32Array;
  private flags: Uint8Array;
  /** Keys held that hold a space: while there are any, `toState` saves a list. */
  private spaced = 0;
  /** Keys held that JSON escapes (ESCAPED): while there are none, a save writes the keys' text as it is. */
  private escaped = 0;
  /** Open addressing: slot + 1, 0 = empty; at most half full. Two bytes an entry while the slots fit. */
  private table: Uint16Array | Int32Array;
  private arena: Buffer;
  /** Where the next key's characters go in the arena. */
  private head = 0;
  private count = 0;
  /** The slot of the oldest key, and where the next key goes (equal once the window is full). */
  private first = 0;
  private next = 0;
  /** The key `has` last answered false for; any `add` forgets it. */
  private missed: string | undefined;
  /** Its storage was given back (`release`): any use throws instead of answering from nothing. */
  private released = false;

  constructor(
    readonly capacity: number,
    initial: Iterable<string> = [],
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`A dedup window holds at least one key (got ${capacity})`);
    const slots = Math.min(capacity, INITIAL_SLOTS);
    this.starts = new Int32Array(slots);
    this.lengths = new Uint8Array(slots);
    this.hashes = new Int32Array(slots);
    this.flags = new Uint8Array(slots);
    this.table = this.newTable(slots);
    this.arena = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
    for (const key of initial) this.add(key);
  }

  has(key: string): boolean {
    if (this.released) throw releasedError();
    if (this.find(key, hashKey(key)) >= 0) return true;
    this.missed = key;
    return false;
  }

  add(key: string): void {
    if (this.released) throw releasedError();
    const hash = hashKey(key);
    const missed = key === this.missed;
    this.missed = undefined;
    if (!missed && this.find(key, hash) >= 0) return;
    if (this.count === this.capacity) this.evict(this.next);
    else if (this.count === this.starts.length) this.growSlots();
    const slot = this.next;
    const length = key.length;
    if (length > this.maxLength) this.widenLengths(length);
    // Written as Latin-1 while scanning it (nearly every key is); a wider character starts over at two bytes each.
    let flags = 0;
    let at = this.reserve(length + 1);
    let arena = this.arena;
    for (let i = 0; i < length; i++) {
      const code = key.charCodeAt(i);
      // Every character of an id, a GUID or a digest ('#' to U+00FF but the backslash) passes this one test.
      if (code <= QUOTE || code === BACKSLASH || code > 0xff) {
        if (code > 0xff) {
          flags |= WIDE | ESCAPED;
          break;
        }
        if (code === SPACE) flags |= HAS_SPACE;
        else if (code !== EXCLAMATION) flags |= ESCAPED;
      }
      arena[at + i] = code;
    }
    if ((flags & WIDE) === 0) arena[at + length] = SPACE;
    else {
      at = this.reserve(length * 2);
      arena = this.arena;
      for (let i = 0; i < length; i++) {
        const code = key.charCodeAt(i);
        if (code === SPACE) flags |= HAS_SPACE;
        arena.writeUInt16LE(code, at + i * 2);
      }
    }
    if (flags & HAS_SPACE) this.spaced++;
    if (flags & ESCAPED) this.escaped++;
    const bytes = storedBytes(length, flags);
    this.head = at + bytes;
    this.starts[slot] = at;
    this.lengths[slot] = key.length;
    this.hashes[slot] = hash;
    this.flags[slot] = flags;
    this.insert(slot, hash);
    this.count++;
    this.next = (slot + 1) % this.capacity;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Gives its storage back for good (the runner's idle service, whose saved state holds these very keys):
   * afterwards every `has`, `add` and save throws, so nothing can take an empty window for the keys.
   */
  release(): void {
    this.released = true;
    this.count = 0;
    this.starts = new Int32Array(0);
    this.lengths = new Uint8Array(0);
    this.hashes = new Int32Array(0);
    this.flags = new Uint8Array(0);
    this.table = new Uint16Array(0);
    this.arena = Buffer.alloc(0);
  }

  /**
   * The keys for the state, oldest first: one string, each key followed by a space, copied from the arena
   * in a few runs (Latin-1 keys lie there one after the other, each followed by its space), so a save makes
   * one string, not one per key; a list while a key holds a space. `savedDedupKeys` reads both.
   */
  toState(): SavedDedupKeys {
    if (this.released) throw releasedError();
    if (this.spaced > 0) return this.toJSON();
    this.unwrap();
    const parts: string[] = [];
    this.runs((text) => parts.push(text), (key) => parts.push(key + SEPARATOR));
    return parts.length === 1 ? parts[0]! : parts.join('');
  }

  /**
   * `toState()` for a state save: while no key needs an escape in JSON (ids, GUIDs, digests), the joined
   * string as a `PlainJsonString`, which the stores write as it is instead of copying it (with
   * `JSON.stringify`, then into a Buffer) at every save.
   */
  toSavedState(): SavedDedupKeys | PlainJsonString {
    const keys = this.toState();
    return typeof keys === 'string' && this.escaped === 0 ? new PlainJsonString(keys) : keys;
  }

  /** Oldest first, as the constructor takes them back. */
  toJSON(): string[] {
    if (this.released) throw releasedError();
    const out: string[] = [];
    this.runs(
      (text) => {
        const keys = text.split(SEPARATOR);
        for (let i = 0; i < keys.length - 1; i++) out.push(keys[i]!); // the last is the run's final ''
      },
      (key) => out.push(key),
    );
    return out;
  }

  /**
   * The keys oldest first: each run of Latin-1 keys stored one after the other without a space of their
   * own as one text (every key followed by its space), any other key alone.
   */
  private runs(run: (text: string) => void, single: (key: string) => void): void {
    const arena = this.arena as Buffer & DirectSlices;
    const slots = this.starts.length;
    let runStart = 0;
    let runEnd = -1;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.first + i) % slots;
      const at = this.starts[slot]!;
      const plain = (this.flags[slot]! & (WIDE | HAS_SPACE)) === 0;
      if (plain && at === runEnd) {
        runEnd = at + this.lengths[slot]! + 1;
        continue;
      }
      if (runEnd >= 0) run(arena.latin1Slice(runStart, runEnd));
      runEnd = -1;
      if (plain) {
        runStart = at;
        runEnd = at + this.lengths[slot]! + 1;
      } else single(this.keyAt(slot));
    }
    if (runEnd >= 0) run(arena.latin1Slice(runStart, runEnd));
  }

  /**
   * Once the ring has wrapped, its keys lie in two pieces (the older ones up to the end of the arena, the newer
   * ones from its start): moves them into one, oldest first from the start, so that `toState` slices the text
   * in one piece instead of slicing two and joining them (twice the window's text at once, at every save of a
   * full window). The smaller piece goes through a copy; the table maps keys to slots, which do not move.
   */
  private unwrap(): void {
    if (this.count === 0) return;
    const tail = this.starts[this.first]!;
    if (tail < this.head) return; // [tail, head) already
    const newer = this.head; // [0, head)
    const older = this.usedBytes() - newer; // [tail, tail + older)
    const arena = this.arena;
    if (newer <= older) {
      const moved = Buffer.from(arena.subarray(0, newer));
      arena.copyWithin(0, tail, tail + older);
      moved.copy(arena, older);
    } else {
      const moved = Buffer.from(arena.subarray(tail, tail + older));
      arena.copyWithin(older, 0, newer);
      moved.copy(arena, 0);
    }
    const slots = this.starts.length;
    let at = 0;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.first + i) % slots;
      this.starts[slot] = at;
      at += storedBytes(this.lengths[slot]!, this.flags[slot]!);
    }
    this.head = at;
  }

  private keyAt(slot: number): string {
    const start = this.starts[slot]!;
    const length = this.lengths[slot]!;
    const arena = this.arena as Buffer & DirectSlices;
    return this.flags[slot]! & WIDE ? arena.ucs2Slice(start, start + length * 2) : arena.latin1Slice(start, start + length);
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
    if (this.flags[slot]! & HAS_SPACE) this.spaced--;
    if (this.flags[slot]! & ESCAPED) this.escaped--;
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
      // Wrapped: [head, tail) is free (none when head === tail: growing compacts).
      return this.head;
    }
    return this.grow(bytes);
  }

  /**
   * Copies the live keys to the start of a new arena, oldest first: twice as large once they would fill
   * more than half of it (the same size when the space was only cut in two by the wrap), but no larger than
   * the full window needs at the keys' average size plus a quarter (`ARENA_SLACK`). Doubling alone left up to
   * half of it unused for good, every byte of which the ring then writes: 50,000 24-character keys (1.25 MB)
   * in 2 MiB, 43-character ones in 4 MiB (docs/benchmarks.md, "peak RSS, wave 10").
   */
  private grow(bytes: number): number {
    const old = this.arena;
    const needed = this.usedBytes() + bytes;
    let size = needed * 2 > old.length ? Math.max(old.length * 2, needed) : old.length;
    const full = Math.ceil((needed / (this.count + 1)) * this.capacity * ARENA_SLACK);
    if (size > full) size = Math.max(full, Math.ceil(needed * ARENA_SLACK));
    const arena = Buffer.allocUnsafe(size);
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

  /** A power of two at least twice the slots (linear probing stays short at half load). */
  private newTable(slots: number): Uint16Array | Int32Array {
    let size = 2;
    while (size < slots * 2) size *= 2;
    return this.capacity < 0xffff ? new Uint16Array(size) : new Int32Array(size);
  }

  /** Lengths two bytes each once a key is longer than 255 characters, four once one is longer than 65,535. */
  private widenLengths(length: number): void {
    const wide = length > 0xffff;
    const wider = wide ? new Int32Array(this.lengths.length) : new Uint16Array(this.lengths.length);
    wider.set(this.lengths);
    this.lengths = wider;
    this.maxLength = wide ? 0x7fffffff : 0xffff;
  }

  /** Before the window first fills the slots are 0..count-1 in order, so growing is a copy. */
  private growSlots(): void {
    const slots = Math.min(this.capacity, this.starts.length * 2);
    const grown = <T extends Uint8Array | Uint16Array | Int32Array>(array: T): T => {
      const bigger = new (array.constructor as new (length: number) => T)(slots);
      bigger.set(array);
      return bigger;
    };
    this.starts = grown(this.starts);
    this.lengths = grown(this.lengths);
    this.hashes = grown(this.hashes);
    const flags = new Uint8Array(slots);
    flags.set(this.flags);
    this.flags = flags;
    this.table = this.newTable(slots);
    for (let slot = 0; slot < this.count; slot++) this.insert(slot, this.hashes[slot]!);
  }
}

/**
 * The keys of events queued or in flight (not acknowledged yet) beside a service's window: a set of strings that
 * keeps its table while keys come and go. A `Set` with keys added and deleted all the time rebuilds its table every
 * few thousand keys; once it holds more than ~3,000 (a page of thousands of events queued behind a batch in
 * flight) each table is a large object that only a full collection frees (measured: 6–19 MiB of them piled up
 * over 200,000 keys with 3,000–5,000 held). Here one open-addressing table (linear probing, deletion by
 * backward shift, no tombstones) doubles while more than half full and goes back to its first size once empty.
 * The strings are the queued batches' own keys: this holds references, not copies.
 */
export class KeysInFlight {
  private keys: (string | undefined)[] = [];
  private hashes = new Int32Array(0);
  private count = 0;

  constructor() {
    this.allocate(IN_FLIGHT_INITIAL_SLOTS);
  }

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return this.count > 0 && this.find(key, hashKey(key)) >= 0;
  }

  add(key: string): void {
    const hash = hashKey(key);
    if (this.find(key, hash) >= 0) return;
    if ((this.count + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    this.insert(key, hash);
    this.count++;
  }

  delete(key: string): void {
    if (this.count === 0) return;
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = this.find(key, hashKey(key));
    if (i < 0) return;
    // Backward shift: move later entries of the probe run into the hole unless their home lies after it.
    for (let j = (i + 1) & mask; keys[j] !== undefined; j = (j + 1) & mask) {
      const home = this.hashes[j]! & mask;
      const movable = i <= j ? home <= i || home > j : home <= i && home > j;
      if (movable) {
        keys[i] = keys[j];
        this.hashes[i] = this.hashes[j]!;
        i = j;
      }
    }
    keys[i] = undefined;
    this.count--;
    if (this.count === 0 && keys.length > IN_FLIGHT_INITIAL_SLOTS) this.allocate(IN_FLIGHT_INITIAL_SLOTS);
  }

  private find(key: string, hash: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const held = keys[i];
      if (held === undefined) return -1;
      if (this.hashes[i] === hash && held === key) return i;
    }
  }

  private insert(key: string, hash: number): void {
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = hash & mask;
    while (keys[i] !== undefined) i = (i + 1) & mask;
    keys[i] = key;
    this.hashes[i] = hash;
  }

  private rehash(slots: number): void {
    const keys = this.keys;
    const hashes = this.hashes;
    this.allocate(slots);
    for (let i = 0; i < keys.length; i++) if (keys[i] !== undefined) this.insert(keys[i]!, hashes[i]!);
  }

  private allocate(slots: number): void {
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.hashes = new Int32Array(slots);
  }
}

/** A KeysInFlight table's first size (a power of two): 1,024 keys before it doubles. */
const IN_FLIGHT_INITIAL_SLOTS = 2048;

/**
 * FNV-1a over the UTF-16 code units, then murmur3's finaliser so the tables' low bits are well mixed. The last
 * key's hash is kept: the runner asks the keys in flight and then the window about one key (and `has` then `add`,
 * or the window's `add` then the in-flight keys' `delete`), which then hashes it once.
 */
function hashKey(key: string): number {
  if (key === lastKey) return lastHash;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  lastKey = key;
  lastHash = h;
  return h;
}
let lastKey: string | undefined;
let lastHash = 0;

function releasedError(): Error {
  return new Error('DedupWindow: its keys were released (they are in the saved state): load them again first');
}

/** A Latin-1 key's characters and its space, or a wider key's UTF-16 code units. */
function storedBytes(length: number, flags: number): number {
  return flags & WIDE ? length * 2 : length + 1;
}
