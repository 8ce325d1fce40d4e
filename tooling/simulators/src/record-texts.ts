/**
 * Records kept as their JSON text, not as objects. `pnpm bench` runs a simulator in the process that measures a
 * collector on the same two cores; a million Proofpoint records as objects held several GB of heap (V8 traced
 * and moved all of it in every full collection) and outgrew the default heap. As UTF-8 bytes in large shared
 * chunks outside the heap, a record costs its text and three numbers, and an answer is its records' bytes
 * joined: the same bytes `JSON.stringify` of the whole answer gave, since that writes each record as
 * `JSON.stringify(record)` does.
 */

/** Bytes per chunk: large enough that a chunk's unused tail is noise, small enough not to matter when idle. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** A growable typed array's next capacity. */
const grown = (capacity: number) => Math.max(1024, capacity * 2);

export class RecordTexts {
  private readonly chunks: Buffer[] = [];
  private used = CHUNK_BYTES;
  /** Per record id: its chunk, offset and byte length. */
  private chunkOf = new Uint32Array(0);
  private offsetOf = new Uint32Array(0);
  private lengthOf = new Uint32Array(0);
  private count = 0;

  /** Records stored (ids are 0 .. size − 1, in the order they were added). */
  get size(): number {
    return this.count;
  }

  /** Stores `JSON.stringify(record)`; returns the record's id. */
  add(record: unknown): number {
    if (this.count === this.chunkOf.length) {
      const capacity = grown(this.count);
      for (const name of ['chunkOf', 'offsetOf', 'lengthOf'] as const) {
        const bigger = new Uint32Array(capacity);
        bigger.set(this[name]);
        this[name] = bigger;
      }
    }
    const id = this.count++;
    this.write(id, JSON.stringify(record));
    return id;
  }

  /** The record `id` is now `record` (its old bytes stay unused: updates are rare, a test's). */
  replace(id: number, record: unknown): void {
    this.write(id, JSON.stringify(record));
  }

  private write(id: number, text: string): void {
    const length = Buffer.byteLength(text);
    if (this.used + length > CHUNK_BYTES || this.chunks.length === 0) {
      // allocUnsafeSlow: a chunk of its own, not a slice of Node's shared pool.
      this.chunks.push(Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, length)));
      this.used = 0;
    }
    const chunk = this.chunks.length - 1;
    this.chunks[chunk]!.write(text, this.used, 'utf8');
    this.chunkOf[id] = chunk;
    this.offsetOf[id] = this.used;
    this.lengthOf[id] = length;
    this.used += length;
  }

  /** The record's JSON text as bytes (a view: copy it before keeping it). */
  bytes(id: number): Buffer {
    const offset = this.offsetOf[id]!;
    return this.chunks[this.chunkOf[id]!]!.subarray(offset, offset + this.lengthOf[id]!);
  }

  byteLength(id: number): number {
    return this.lengthOf[id]!;
  }

  text(id: number): string {
    return this.bytes(id).toString('utf8');
  }

  /** The record as a new object (a copy: changing it changes nothing stored). */
  parse<T = Record<string, unknown>>(id: number): T {
    return JSON.parse(this.text(id)) as T;
  }

  /**
   * A top-level field of the record read from its text, without parsing the record: the decoded value of a
   * string, the number of a number, undefined when absent or of another type. Stops at the key, so a key near
   * the front (Proofpoint's `id`, Lark's `unique_id`) costs a few dozen bytes.
   */
  field(id: number, key: string): string | number | undefined {
    return topLevelField(this.bytes(id), key);
  }

  /**
   * One answer in one Buffer: each string part as its UTF-8, each list of record ids as those records' stored
   * bytes separated by commas (the caller writes the brackets around it).
   */
  join(parts: readonly (string | readonly number[])[]): Buffer {
    let total = 0;
    for (const part of parts) {
      if (typeof part === 'string') total += Buffer.byteLength(part);
      else {
        for (const id of part) total += this.lengthOf[id]!;
        total += Math.max(0, part.length - 1);
      }
    }
    const out = Buffer.allocUnsafeSlow(total);
    let at = 0;
    for (const part of parts) {
      if (typeof part === 'string') {
        at += out.write(part, at, 'utf8');
        continue;
      }
      for (let i = 0; i < part.length; i++) {
        if (i > 0) out[at++] = 0x2c; // ','
        at += this.bytes(part[i]!).copy(out, at);
      }
    }
    return out;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The end (exclusive) of the JSON string starting at `start` (its opening quote). */
function stringEnd(text: Buffer, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return text.length;
}

/** See `RecordTexts.field`: a scan of a JSON object's text at depth 1, strings skipped whole. */
export function topLevelField(text: Buffer, key: string): string | number | undefined {
  const wanted = Buffer.from(JSON.stringify(key));
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === 1 && expectKey) {
        if (end - i === wanted.length && text.compare(wanted, 0, wanted.length, i, end) === 0) {
          let v = end;
          while (text[v] === 0x20 || text[v] === 0x3a || text[v] === 0x0a || text[v] === 0x0d || text[v] === 0x09) v++;
          return readValue(text, v);
        }
        expectKey = false;
      }
      i = end - 1;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      expectKey = c === 0x7b && depth === 1;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && depth === 1) expectKey = true;
  }
  return undefined;
}

function readValue(text: Buffer, at: number): string | number | undefined {
  if (text[at] === QUOTE) {
    const end = stringEnd(text, at);
    const raw = text.toString('utf8', at + 1, end - 1);
    return raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
  }
  let end = at;
  while (end < text.length && /[-+.eE0-9]/.test(String.fromCharCode(text[end]!))) end++;
  return end > at ? Number(text.toString('latin1', at, end)) : undefined;
}

/**
 * The order of a vendor's records by time, for the window and page queries: per entry its time, when it
 * becomes visible, and its record id, in typed arrays. Entries with equal times keep the order `tie` gives
 * (default: the order they were added). Appending in order keeps it sorted; entries added out of order (late
 * records) are sorted and merged in at the next query.
 */
export class TimeOrder {
  private times = new Float64Array(0);
  private visible = new Float64Array(0);
  private idOf = new Uint32Array(0);
  private count = 0;
  /** Entries [0, sortedUpTo) are in order. */
  private sortedUpTo = 0;

  constructor(private readonly tie: (a: number, b: number) => number = (a, b) => a - b) {}

  get size(): number {
    return this.count;
  }

  add(time: number, visibleAt: number, id: number): void {
    if (this.count === this.idOf.length) {
      const capacity = grown(this.count);
      const times = new Float64Array(capacity);
      times.set(this.times);
      const visible = new Float64Array(capacity);
      visible.set(this.visible);
      const ids = new Uint32Array(capacity);
      ids.set(this.idOf);
      this.times = times;
      this.visible = visible;
      this.idOf = ids;
    }
    const i = this.count++;
    this.times[i] = time;
    this.visible[i] = visibleAt;
    this.idOf[i] = id;
    if (this.sortedUpTo === i && (i === 0 || this.before(i - 1, i))) this.sortedUpTo = i + 1;
  }

  /** Whether entry `a` may stay before entry `b`. */
  private before(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    return ta < tb || (ta === tb && this.tie(this.idOf[a]!, this.idOf[b]!) <= 0);
  }

  private ensureSorted(): void {
    if (this.sortedUpTo === this.count) return;
    const n = this.count;
    const head = this.sortedUpTo;
    // The unsorted tail, sorted by (time, tie); then one merge with the sorted head (stable: head first).
    const tail = Array.from({ length: n - head }, (_, k) => head + k).sort((a, b) => this.times[a]! - this.times[b]! || this.tie(this.idOf[a]!, this.idOf[b]!) || a - b);
    const order = new Uint32Array(n);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < head && j < tail.length) order[k++] = this.before(i, tail[j]!) ? i++ : tail[j++]!;
    while (i < head) order[k++] = i++;
    while (j < tail.length) order[k++] = tail[j++]!;
    const times = new Float64Array(this.times.length);
    const visible = new Float64Array(this.times.length);
    const ids = new Uint32Array(this.times.length);
    for (let p = 0; p < n; p++) {
      times[p] = this.times[order[p]!]!;
      visible[p] = this.visible[order[p]!]!;
      ids[p] = this.idOf[order[p]!]!;
    }
    this.times = times;
    this.visible = visible;
    this.idOf = ids;
    this.sortedUpTo = n;
  }

  /** The position of the first entry whose time is >= `time` (sorts first when needed). */
  firstAt(time: number): number {
    this.ensureSorted();
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Record ids of the entries with start <= time < end (<= end: `endInclusive`) visible at `now`, in order. */
  between(start: number, end: number, now = Number.POSITIVE_INFINITY, endInclusive = false): number[] {
    const out: number[] = [];
    for (let p = this.firstAt(start); p < this.count && (this.times[p]! < end || (endInclusive && this.times[p] === end)); p++) if (this.visible[p]! <= now) out.push(this.idOf[p]!);
    return out;
  }

  /** The entry at sorted position `p`. */
  idAt(p: number): number {
    this.ensureSorted();
    return this.idOf[p]!;
  }

  timeAt(p: number): number {
    this.ensureSorted();
    return this.times[p]!;
  }

  /** Every record id in order. */
  ids(): number[] {
    this.ensureSorted();
    return Array.from(this.idOf.subarray(0, this.count));
  }

  /** Entries not visible yet (visibleAt = +∞) become visible at `now`: late records released. */
  release(now: number): void {
    for (let p = 0; p < this.count; p++) if (this.visible[p] === Number.POSITIVE_INFINITY) this.visible[p] = now;
  }
}
