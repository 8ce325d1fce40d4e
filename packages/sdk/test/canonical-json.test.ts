import { describe, expect, it } from 'vitest';
import { canonicalJson } from '@collector/sdk';
import { seededRandom } from '@collector/simulators';

const PIECES = ['a', 'Z', ' ', '"', '\\', '/', ']', '}', '{', '[', ',', ':', '\n', '\t', '\u0001', 'é', '€', '😀', '\u2028', 'id'];

function randomValue(rand: () => number, depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.45) {
    const k = Math.floor(rand() * 7);
    if (k === 0) return null;
    if (k === 1) return rand() < 0.5;
    if (k === 2) return Math.floor(rand() * 2e6) - 1e6;
    if (k === 3) return Math.round(rand() * 1e4) / 100;
    return Array.from({ length: Math.floor(rand() * 6) }, () => PIECES[Math.floor(rand() * PIECES.length)]).join('');
  }
  if (r < 0.65) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 6); i > 0; i--) out[`${PIECES[Math.floor(rand() * PIECES.length)]}k${Math.floor(rand() * 20)}`] = randomValue(rand, depth + 1);
  return out;
}

/** The same value in another key order (what a re-read record may look like). */
function shuffled(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, rand));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).sort(() => rand() - 0.5);
  return Object.fromEntries(entries.map(([k, v]) => [k, shuffled(v, rand)]));
}

describe('canonicalJson', () => {
  /** The definition: keys sorted at every level, each key and value as JSON.stringify writes it. */
  function reference(value: unknown): string {
    if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
    if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().filter((k) => record[k] !== undefined).map((k) => `${JSON.stringify(k)}:${reference(record[k])}`).join(',')}}`;
  }

  it('sorts the keys at every level: the same text whatever the key order, equal to the definition (random records)', () => {
    const rand = seededRandom(3);
    for (let n = 0; n < 2000; n++) {
      const record = randomValue(rand);
      const expected = reference(record);
      expect(canonicalJson(record)).toBe(expected);
      // The same records in another key order, and parsed back from text (what a re-read page gives).
      expect(canonicalJson(shuffled(record, rand))).toBe(expected);
      expect(canonicalJson(JSON.parse(JSON.stringify(shuffled(record, rand))))).toBe(expected);
    }
  });

  it('sorts array-index keys as text and keeps a "__proto__" key, as the definition does', () => {
    const record = JSON.parse('{"b":1,"10":2,"9":3,"__proto__":{"x":1},"a":[{"2":0,"1":0}]}') as unknown;
    expect(canonicalJson(record)).toBe('{"10":2,"9":3,"__proto__":{"x":1},"a":[{"1":0,"2":0}],"b":1}');
    expect(canonicalJson(record)).toBe(reference(record));
  });

  it('reads records of one shape after another (the cached key order follows the shape), and leaves them unchanged', () => {
    const a = { id: 'x', GUID: 'g', parts: [{ z: 1, a: [{ d: 1, c: 2 }] }], empty: {}, list: [] };
    const b = { id: 'y', GUID: 'h', parts: [], extra: true, empty: {}, list: [1] };
    const before = JSON.stringify([a, b]);
    expect([a, b, a].map(canonicalJson)).toEqual([
      '{"GUID":"g","empty":{},"id":"x","list":[],"parts":[{"a":[{"c":2,"d":1}],"z":1}]}',
      '{"GUID":"h","empty":{},"extra":true,"id":"y","list":[1],"parts":[]}',
      '{"GUID":"g","empty":{},"id":"x","list":[],"parts":[{"a":[{"c":2,"d":1}],"z":1}]}',
    ]);
    expect(JSON.stringify([a, b])).toBe(before);
    expect([null, 1, 'x', undefined].map(canonicalJson)).toEqual(['null', '1', '"x"', 'null']);
  });
});
