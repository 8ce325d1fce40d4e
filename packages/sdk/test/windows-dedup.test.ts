import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { planWindows, pullWindows, type WindowPolicy } from '@collector/sdk';
import { DedupWindow, savedDedupKeys, timeWindows } from '@collector/sdk/host';
import { PlainJsonString, stateTextPieces } from '../src/persistence/state-text.js';
import { KeysInFlight } from '../src/runtime/dedup-window.js';

describe('timeWindows', () => {
  const now = new Date('2024-01-02T00:00:00Z');
  it('splits [from, now - delay] into windows of at most maxSpan, numbered for the slot log lines', () => {
    const windows = [...timeWindows({ from: new Date('2024-01-01T20:30:00Z'), maxSpanMs: 3_600_000, delayMs: 1_800_000, now })];
    expect(windows.map((w) => [w.start.toISOString(), w.end.toISOString(), w.index, w.total])).toEqual([
      ['2024-01-01T20:30:00.000Z', '2024-01-01T21:30:00.000Z', 1, 3],
      ['2024-01-01T21:30:00.000Z', '2024-01-01T22:30:00.000Z', 2, 3],
      ['2024-01-01T22:30:00.000Z', '2024-01-01T23:30:00.000Z', 3, 3],
    ]);
  });
  it('yields nothing when caught up', () => {
    expect([...timeWindows({ from: new Date(now.getTime() - 500), maxSpanMs: 60_000, now })]).toEqual([]);
  });
});

describe('windowed pulling (the SDK owns resume, look-back, floor, slicing and commits)', () => {
  const now = new Date('2024-01-02T00:00:00Z');
  const iso = (d: Date) => d.toISOString().slice(11, 16);
  type Cp = { end: string };
  const policy = (extra: Partial<WindowPolicy<Cp>> = {}): WindowPolicy<Cp> => ({
    initialStart: new Date('2024-01-01T20:00:00Z'),
    floor: new Date('2024-01-01T20:00:00Z'),
    resumeAt: (c) => new Date(c.end),
    checkpointAt: (end) => ({ end: end.toISOString() }),
    lookbackMs: 600_000,
    maxSpanMs: 3_600_000,
    ...extra,
  });
  const spans = (plan: ReturnType<typeof planWindows>) => plan.windows.map((w) => `${iso(w.start)}-${iso(w.end)}`);

  it('starts at the initial start, then at the checkpoint minus the look-back, never before the floor', () => {
    expect(spans(planWindows(policy(), undefined, now))).toEqual(['20:00-21:00', '21:00-22:00', '22:00-23:00', '23:00-00:00']);
    expect(spans(planWindows(policy(), { end: '2024-01-01T23:00:00Z' }, now))).toEqual(['22:50-23:50', '23:50-00:00']);
    expect(spans(planWindows(policy(), { end: '2024-01-01T20:05:00Z' }, now))[0]).toBe('20:00-21:00');
  });

  it('reads the look-back again as one window in reread mode, and aligns bounds', () => {
    const plan = planWindows(policy({ lookbackMode: 'reread', alignMs: 60_000 }), { end: '2024-01-01T23:00:30Z' }, now);
    expect(plan.reread && `${iso(plan.reread.start)}-${iso(plan.reread.end)}`).toBe('22:50-23:00');
    expect(spans(plan)).toEqual(['23:00-00:00']);
  });

  it("yields each page at once and each window's checkpoint after its last page", async () => {
    const pages: Record<string, string[][]> = { '22:50': [['a', 'b'], ['c']], '23:50': [] };
    const batches = [];
    for await (const batch of pullWindows({ now: () => now, signal: new AbortController().signal }, { end: '2024-01-01T23:00:00Z' }, policy(), async function* (w) {
      yield* pages[iso(w.start)] ?? [];
    })) batches.push(batch);
    expect(batches).toEqual([
      { events: ['a', 'b'] },
      { events: ['c'] },
      { events: [], checkpoint: { end: '2024-01-01T23:50:00.000Z' } },
      { events: [], checkpoint: { end: '2024-01-02T00:00:00.000Z' } },
    ]);
  });
});

describe('DedupWindow', () => {
  it('forgets the oldest keys beyond its capacity and round-trips through JSON', () => {
    const w = new DedupWindow(3, ['a', 'b']);
    w.add('c');
    w.add('b');
    w.add('d');
    expect(w.has('a')).toBe(false);
    expect(w.toJSON()).toEqual(['b', 'c', 'd']);
    expect(new DedupWindow(3, w.toJSON()).has('c')).toBe(true);
  });

  /** The window as it was before it was packed (a Set and a ring of strings): the packed one must answer alike. */
  class ReferenceWindow {
    private readonly keys = new Set<string>();
    private readonly ring: (string | undefined)[];
    private next = 0;
    constructor(readonly capacity: number) {
      this.ring = new Array<string | undefined>(capacity);
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
    toJSON(): string[] {
      const out: string[] = [];
      for (let i = 0; i < this.capacity; i++) {
        const key = this.ring[(this.next + i) % this.capacity];
        if (key !== undefined) out.push(key);
      }
      return out;
    }
  }

  it('answers exactly as a Set with a ring does, for keys of any length and characters, through evictions and regrowth', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    // Short and long, Latin-1 and wider (a lone surrogate, an emoji, CJK), and the empty key: each stored exactly.
    const alphabet = ['0', '7', 'a', 'F', '-', '"', '\\', '\n', ' ', 'é', '\u00ff', '\u0100', '中', '\ud83d\ude00', '\ud800'];
    const keyOf = () => {
      const length = random(4) === 0 ? random(200) : random(12);
      let key = '';
      for (let i = 0; i < length; i++) key += alphabet[random(random(3) === 0 ? alphabet.length : 5)];
      return key;
    };
    for (const capacity of [1, 2, 3, 17, 1000, 3000]) {
      const window = new DedupWindow(capacity);
      const reference = new ReferenceWindow(capacity);
      const seen: string[] = [];
      for (let step = 0; step < 12_000; step++) {
        // Often a key seen before (a duplicate or an evicted one), else a new one.
        const key = seen.length > 0 && random(3) === 0 ? seen[random(seen.length)]! : keyOf();
        seen.push(key);
        expect(window.has(key)).toBe(reference.has(key));
        window.add(key);
        reference.add(key);
        expect(window.size).toBe(reference.toJSON().length);
        if (step % 997 === 0) {
          expect(window.toJSON()).toEqual(reference.toJSON());
          // The state's form, through the JSON a store writes and reads: the same keys in the same order.
          expect(savedDedupKeys(JSON.parse(JSON.stringify(window.toState())))).toEqual(reference.toJSON());
          // As a save writes it: a plain text needs no escape (it is written between quotes as it is).
          const saved = window.toSavedState();
          if (saved instanceof PlainJsonString) expect(JSON.stringify(saved.text)).toBe(`"${saved.text}"`);
          expect(savedDedupKeys(JSON.parse(stateTextPieces({ dedup: saved }, 1).join(''))['dedup'])).toEqual(reference.toJSON());
        }
      }
      expect(window.toJSON()).toEqual(reference.toJSON());
      for (const key of seen.slice(-5000)) expect(window.has(key)).toBe(reference.has(key));
      const reloaded = new DedupWindow(capacity, savedDedupKeys(JSON.parse(JSON.stringify(window.toState()))));
      expect(reloaded.toJSON()).toEqual(reference.toJSON());
    }
  });

  it('keeps a length in one byte a key until a longer key comes, then answers for keys of 255, 256 and 70,000 characters exactly', () => {
    const lengths = (window: DedupWindow) => (window as unknown as { lengths: { BYTES_PER_ELEMENT: number } }).lengths.BYTES_PER_ELEMENT;
    const short = (i: number) => `id-${i}`;
    const window = new DedupWindow(3000);
    for (let i = 0; i < 2000; i++) window.add(short(i));
    window.add('x'.repeat(255));
    expect(lengths(window)).toBe(1);
    // Before the window first fills, then through its evictions (the slots grow, the ring wraps).
    const long = ['y'.repeat(256), `${'z'.repeat(299)}\u0100`, 'w'.repeat(70_000)];
    window.add(long[0]!);
    expect(lengths(window)).toBe(2);
    window.add(long[1]!);
    window.add(long[2]!);
    expect(lengths(window)).toBe(4);
    for (let i = 2000; i < 3500; i++) window.add(short(i));
    // 3,504 keys in a window of 3,000: the oldest 504 (short ones) evicted, the long ones kept exactly.
    const all = [...Array.from({ length: 2000 }, (_, i) => short(i)), 'x'.repeat(255), ...long, ...Array.from({ length: 1500 }, (_, i) => short(2000 + i))];
    const keys = window.toJSON();
    expect(keys).toEqual(all.slice(-3000));
    for (const key of long) expect(window.has(key)).toBe(true);
    expect(window.has(short(503))).toBe(false);
    expect(window.has(short(504))).toBe(true);
    expect(window.has('y'.repeat(255))).toBe(false);
    expect(window.has('w'.repeat(69_999))).toBe(false);
    expect(new DedupWindow(3000, savedDedupKeys(window.toState())).toJSON()).toEqual(keys);
  });

  it('keeps its keys in at most a quarter more storage than a full window of them takes, through the ring\'s evictions', () => {
    // 43 characters, as a base64url SHA-256: 44 bytes each with the space, 2.2 MB.
    const key = (i: number) => `k${String(i).padStart(42, '0')}`;
    const window = new DedupWindow(50_000);
    const arena = () => (window as unknown as { arena: Buffer }).arena.length;
    for (let i = 0; i < 150_000; i++) {
      window.add(key(i));
      if (i === 49_999 || i === 149_999) expect(arena()).toBeLessThanOrEqual(Math.ceil(50_000 * 44 * 1.25)); // doubling gave 4 MiB
    }
    expect(window.toJSON()).toEqual(Array.from({ length: 50_000 }, (_, i) => key(100_000 + i)));
  });

  it('slices a wrapped ring\'s text for a save in one piece (its two pieces moved together first), and goes on answering as before', () => {
    const key = (i: number) => `key-${i}`;
    const window = new DedupWindow(1000);
    for (let i = 0; i < 2300; i++) window.add(key(i)); // ~9 bytes a key in 16 KiB: the ring wrapped at ~1800
    const arena = (window as unknown as { arena: Buffer & { latin1Slice(start: number, end: number): string } }).arena;
    const slice = vi.spyOn(arena, 'latin1Slice');
    expect(window.toState()).toBe(Array.from({ length: 1000 }, (_, i) => `${key(1300 + i)} `).join(''));
    expect(slice).toHaveBeenCalledTimes(1); // not one slice per piece, then a join
    slice.mockRestore();
    for (let i = 2300; i < 3500; i++) window.add(key(i));
    expect(window.toJSON()).toEqual(Array.from({ length: 1000 }, (_, i) => key(2500 + i)));
    expect([window.has(key(2499)), window.has(key(2500)), window.has(key(3499))]).toEqual([false, true, true]);
  });

  it('gives a save its keys as plain text while no key needs a JSON escape, whichever keys were evicted', () => {
    const w = new DedupWindow(2, ['17', '0b7c-4c3b_x.Zq!#~\u007fé']);
    expect(w.toSavedState()).toEqual(new PlainJsonString('17 0b7c-4c3b_x.Zq!#~\u007fé '));
    for (const escaped of ['a"b', 'a\\b', 'a\nb', 'a\u001fb', '中', '\ud800']) {
      const window = new DedupWindow(2, ['17', escaped]);
      expect(window.toSavedState()).toBe(window.toState()); // a string or list JSON.stringify escapes
      window.add('18');
      expect(window.toSavedState()).toBe(window.toState());
      window.add('19'); // the escaped key is evicted
      expect(window.toSavedState()).toEqual(new PlainJsonString('18 19 '));
    }
    const spaced = new DedupWindow(2, ['a b', 'c']);
    expect(spaced.toSavedState()).toEqual(['a b', 'c']);
  });

  it('wraps a key to the start of its storage only where it fits before the oldest key (16 KiB at first)', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((ch) => ch.repeat(8000)) as [string, string, string, string];
    const exact = new DedupWindow(2, [a, b]);
    exact.add(c); // a's 8000 bytes are free again: c fits exactly before b
    expect(exact.toJSON()).toEqual([b, c]);
    const over = new DedupWindow(2, [a, b]);
    over.add(d + 'd'); // one byte more than a's place: must not overwrite b's first byte
    over.add('e');
    expect(over.toJSON()).toEqual([d + 'd', 'e']);
    const again = new DedupWindow(2, [a, b]);
    again.add(d + 'd');
    expect(again.toJSON()).toEqual([b, d + 'd']);
  });

  it('saves its keys as one string (each key followed by a space), or as a list while a key holds a space; reads both and the lists of earlier versions', () => {
    const w = new DedupWindow(3, ['17', 'a-b', 'é中']);
    expect(w.toState()).toBe('17 a-b é中 ');
    w.add('x y');
    expect(w.toState()).toEqual(['a-b', 'é中', 'x y']);
    w.add('z');
    w.add('中 '); // a wide key with a space
    w.add('');
    expect(w.toState()).toEqual(['z', '中 ', '']);
    w.add('w\n"\\');
    w.add('v'); // both keys with a space are evicted: joined again
    expect(w.toState()).toBe(' w\n"\\ v ');
    expect(savedDedupKeys(w.toState())).toEqual(['', 'w\n"\\', 'v']);
    expect(new DedupWindow(3).toState()).toBe('');
    expect(savedDedupKeys('')).toEqual([]);
    expect(savedDedupKeys(' ')).toEqual(['']);
    expect(savedDedupKeys('17 a-b ')).toEqual(['17', 'a-b']);
    expect(savedDedupKeys(['17', 'a b'])).toEqual(['17', 'a b']); // a state saved before 2026-12
    expect(savedDedupKeys(undefined)).toEqual([]);
  });

  it('holds windows of 65,535 keys and more (four-byte table entries) exactly', () => {
    const w = new DedupWindow(65_535);
    for (let i = 0; i < 100_000; i++) w.add(String(i));
    const held = w.toJSON();
    expect(held).toHaveLength(65_535);
    expect(held[0]).toBe(String(100_000 - 65_535));
    expect(held.at(-1)).toBe('99999');
    expect(w.has(String(100_000 - 65_536))).toBe(false);
    expect(w.has(String(100_000 - 65_535))).toBe(true);
  });

  it('tells keys apart that differ only in characters above U+00FF', () => {
    const w = new DedupWindow(10, ['\u0100a', 'a\u0101']);
    expect(w.has('\u0100a')).toBe(true);
    expect(w.has('\u0101a')).toBe(false);
    expect(w.has('\u0000a')).toBe(false);
    expect(w.has('a\u0001')).toBe(false);
    expect(w.toJSON()).toEqual(['\u0100a', 'a\u0101']);
  });
});

describe('KeysInFlight', () => {
  it('answers as a Set does while keys come and go, through growth and back to empty', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const keys = new KeysInFlight();
    const reference = new Set<string>();
    const held: string[] = [];
    // Waves: fill up to thousands of keys (the table doubles), drain to none (it starts over), with lookups of
    // held, removed and never-seen keys, and keys that differ in one character or only above U+00FF.
    for (let wave = 0; wave < 4; wave++) {
      const peak = [300, 5000, 40, 2500][wave]!;
      for (let n = 0; n < 30_000; n++) {
        const adding = held.length < peak && (held.length === 0 || random(3) > 0);
        if (adding) {
          const key = random(5) === 0 ? `k${random(50)}\u0100` : `${wave}-${random(1_000_000)}`;
          keys.add(key);
          reference.add(key);
          if (!held.includes(key)) held.push(key);
        } else if (held.length > 0) {
          const key = held.splice(random(held.length), 1)[0]!;
          keys.delete(key);
          reference.delete(key);
        }
        const probe = random(2) === 0 && held.length > 0 ? held[random(held.length)]! : `${wave}-${random(1_000_000)}`;
        expect(keys.has(probe)).toBe(reference.has(probe));
        expect(keys.size).toBe(reference.size);
        if (n > 20_000 && held.length > 0 && random(50) === 0) break;
      }
      for (const key of held.splice(0)) {
        keys.delete(key);
        reference.delete(key);
        expect(keys.has(key)).toBe(false);
      }
      expect(keys.size).toBe(0);
    }
  });

  it('keeps one table while thousands of keys come and go (a Set rebuilds its table, a large object each time)', () => {
    const largeObjects = () => getHeapSpaceStatistics().find((s) => s.space_name === 'large_object_space')!.space_used_size;
    const keys = new KeysInFlight();
    const queued: string[] = [];
    const before = largeObjects();
    let grown = 0;
    // 5,000 keys held (a page of thousands queued behind a batch in flight), 1,000 acknowledged at a time.
    for (let i = 0; i < 200_000; i++) {
      const key = `7${1e17 + i * 7919}`;
      keys.add(key);
      queued.push(key);
      if (queued.length >= 5000) for (const done of queued.splice(0, 1000)) keys.delete(done);
      if (i % 500 === 0) grown = Math.max(grown, largeObjects() - before);
    }
    // A Set measured 6–19 MiB here (docs/benchmarks.md, wave 12); the table's own growth is ≤ 0.2 MiB.
    expect(grown).toBeLessThan(2 * 1024 * 1024);
  });
});
