import { describe, expect, it } from 'vitest';
import { canonicalJson, parseJsonRecords } from '@collector/sdk';
import { encodeEvent } from '@collector/sdk/host';
import { JsonScanError, splitJsonArray } from '../src/runtime/raw-json.js';

/** A deterministic generator of JSON values with the shapes vendors send (and some they rarely do). */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

describe('splitJsonArray', () => {
  it('returns each element exactly as written: escapes, brackets inside strings, nesting, unicode, whitespace', () => {
    const elements = [
      '{"a":"quote \\" and backslash \\\\","b":"] } [ {"}',
      '[1,[2,[3,{"x":[]}]],{}]',
      '"\\u00e9\\ud83d\\ude00 é 😀 \\/ \\n"',
      '{ "pretty" : [ 1 , 2 ] ,\n  "b" : null }',
      '-12.5e+3',
      'true',
      'null',
      '{"ends with backslash\\\\":"\\\\"}',
    ];
    const text = ` \n[ ${elements.join(' ,\n\t')} ]\r\n`;
    const split = splitJsonArray(text);
    expect(split).toEqual(elements);
    expect(split.map((e) => JSON.parse(e) as unknown)).toEqual(JSON.parse(text));
  });

  it('agrees with JSON.parse on random arrays', () => {
    const rand = random(7);
    for (let n = 0; n < 300; n++) {
      const array = Array.from({ length: Math.floor(rand() * 5) }, () => randomValue(rand));
      const text = JSON.stringify(array, null, n % 3 === 0 ? 2 : undefined);
      expect(splitJsonArray(text).map((e) => JSON.parse(e) as unknown)).toEqual(array);
    }
  });

  it.each([
    ['[{"a":"unterminated}]', 'Unterminated string'],
    ['[1 2]', "Expected ',' or ']'"],
    ['[{"a":1]', 'Unbalanced bracket'],
    ['[{"a":[1}]', 'Unbalanced bracket'],
    ['[1,2', 'Unterminated array'],
    ['[1,]', 'Expected a value'],
    ['[1] x', 'Unexpected text after the array'],
    ['{"a":1}', 'Expected an array'],
    ['', 'Expected an array'],
    ['[{"a":1}', 'Unterminated array'],
  ])('refuses malformed input %j with a clear error (%s), never a partial result', (text, message) => {
    expect(() => splitJsonArray(text)).toThrow(JsonScanError);
    expect(() => splitJsonArray(text)).toThrow(message);
  });
});

describe('parseJsonRecords', () => {
  const pullingId = '1700000000000';

  it('parses like JSON.parse and sends each record of the named arrays as the bytes the vendor sent', () => {
    // Written the way no JSON.stringify writes: \u escapes, \/ and a decimal with a trailing zero.
    const records = ['{"id":"r1","name":"caf\\u00e9 \\/ 😀","score":1.50,"big":12345678901234567890}', '{"id":"r2","nested":{"z":[1,{"y":"]"}],"a":null}}', '{}'];
    const text = `{"code":0,"data":{"has_more":false,"items":[${records.join(',')}]}}`;
    const body = parseJsonRecords(text, [['data', 'items']]) as { data: { items: Record<string, unknown>[] } };
    expect(body).toEqual(JSON.parse(text));
    const items = body.data.items;
    expect(items.map((r) => encodeEvent(r, pullingId))).toEqual([
      `${records[0]!.slice(0, -1)},"@devo_pulling_id":"${pullingId}"}`,
      `${records[1]!.slice(0, -1)},"@devo_pulling_id":"${pullingId}"}`,
      `{"@devo_pulling_id":"${pullingId}"}`,
    ]);
    // The vendor code still reads fields from the objects.
    expect(items[0]!['name']).toBe('café / 😀');
  });

  it('freezes the records it remembers: a change would never reach Devo, so it fails loudly', () => {
    const body = parseJsonRecords('[{"id":1}]', [[]]) as Record<string, unknown>[];
    expect(Object.isFrozen(body[0])).toBe(true);
    expect(() => {
      body[0]!['id'] = 2;
    }).toThrow(TypeError);
    // A copy is a new object: serialised as usual, with its changes.
    expect(encodeEvent({ ...body[0], id: 2 }, pullingId)).toBe(`{"id":2,"@devo_pulling_id":"${pullingId}"}`);
  });

  it('serialises records written with whitespace inside (a pretty-printed answer never breaks a syslog line)', () => {
    const text = '{\n  "value": [\n    {\n      "id": "a",\n      "list": [ 1, 2 ]\n    },\n    {"id":"b"}\n  ]\n}';
    const body = parseJsonRecords(text, [['value']]) as { value: unknown[] };
    const lines = body.value.map((r) => encodeEvent(r, pullingId));
    expect(lines).toEqual([`{"id":"a","list":[1,2],"@devo_pulling_id":"${pullingId}"}`, `{"id":"b","@devo_pulling_id":"${pullingId}"}`]);
    expect(Object.isFrozen(body.value[0])).toBe(false);
  });

  it('takes the last of repeated keys and decodes escaped keys, as JSON.parse does; skips absent paths and non-objects', () => {
    const text = '{"items":[{"id":"old"}],"other":{"x":1},"it\\u0065ms":[{"id":"new"},3,[4],null],"missing":null}';
    const body = parseJsonRecords(text, [['items'], ['nope', 'deeper'], ['missing'], ['other', 'x']]) as { items: unknown[] };
    expect(body).toEqual(JSON.parse(text));
    expect(encodeEvent(body.items[0], pullingId)).toBe(`{"id":"new","@devo_pulling_id":"${pullingId}"}`);
    expect(body.items.slice(1).map((r) => encodeEvent(r, pullingId))).toEqual(['3', '[4]', 'null']);
  });

  it('throws what JSON.parse throws for a malformed page', () => {
    expect(() => parseJsonRecords('{"items":[{"id":1},]}', [['items']])).toThrow(SyntaxError);
    expect(() => parseJsonRecords('<html>502</html>', [['items']])).toThrow(SyntaxError);
  });

  it('sends the same text as JSON.stringify for pages written by JSON.stringify (random records)', () => {
    const rand = random(11);
    for (let n = 0; n < 200; n++) {
      const items = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => {
        const v = randomValue(rand);
        return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : { v };
      });
      const body = parseJsonRecords(JSON.stringify({ items }), [['items']]) as { items: unknown[] };
      expect(body.items.map((r) => encodeEvent(r, pullingId))).toEqual(items.map((r) => encodeEvent(structuredClone(r), pullingId)));
    }
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level, the same text from a remembered record as from an object, whatever the key order', () => {
    const rand = random(3);
    for (let n = 0; n < 500; n++) {
      const v = randomValue(rand);
      const record = v !== null && typeof v === 'object' && !Array.isArray(v) ? v : { v, n };
      const fromObject = canonicalJson(structuredClone(record));
      const reordered = shuffled(record, rand);
      for (const text of [JSON.stringify(record), JSON.stringify(reordered), JSON.stringify(reordered, null, 1)]) {
        const [remembered] = parseJsonRecords(`[${text}]`, [[]]) as unknown[];
        expect(canonicalJson(remembered)).toBe(fromObject);
      }
      expect(canonicalJson(reordered)).toBe(fromObject);
    }
  });

  it('falls back to the object when the text is not written the way JSON.stringify writes', () => {
    const [remembered] = parseJsonRecords('[{"b":"\\u00e9\\/","a":1.0,"c":1e3,"d":-0,"e":12345678901234567}]', [[]]) as unknown[];
    expect(canonicalJson(remembered)).toBe('{"a":1,"b":"é/","c":1000,"d":0,"e":12345678901234568}');
  });

  it('is exact on an example record: keys sorted inside arrays of objects too', () => {
    const [remembered] = parseJsonRecords('[{"id":"x","GUID":"g","parts":[{"z":1,"a":[{"d":1,"c":2}]}],"empty":{},"list":[]}]', [[]]) as unknown[];
    expect(canonicalJson(remembered)).toBe('{"GUID":"g","empty":{},"id":"x","list":[],"parts":[{"a":[{"c":2,"d":1}],"z":1}]}');
  });
});
