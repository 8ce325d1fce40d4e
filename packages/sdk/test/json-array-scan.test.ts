import { describe, expect, it } from 'vitest';
import { seededRandom } from '@collector/simulators';
import { compactJson, HttpError, JsonRecord, jsonRecords, JsonSyntaxError, recordField, scanJsonArray, type HttpResponse } from '@collector/sdk';
import { EventEncoder } from '../src/runtime/event-encoding.js';

/** The elements of the array at `path` in `text`, as the scan gives their texts. */
function elementTexts(text: string, path: string | string[]): string[] {
  const scan = scanJsonArray(text, path);
  return Array.from({ length: scan.length }, (_, i) => scan.elementText(i));
}

const tricky = [
  { s: ']}[{"', t: '\\"}', u: 'caf\u00e9 😀 \u2028' },
  [[1, [2, [3, []]]], {}, []],
  { nested: { items: [{ a: 1 }], value: '[' }, n: -0.5e-3, big: 12345678901234567890, yes: true, no: false, none: null },
  'a string element',
  42,
  null,
  {},
];

describe('scanJsonArray', () => {
  it('returns each element of the array at the path as its own text, whatever its strings hold', () => {
    const text = JSON.stringify({ code: 0, data: { has_more: false, items: tricky, page_token: 'x' } });
    const texts = elementTexts(text, 'data.items');
    expect(texts).toEqual(tricky.map((e) => JSON.stringify(e)));
    expect(texts.map((t) => JSON.parse(t) as unknown)).toEqual(JSON.parse(text).data.items);
  });

  it('keeps the vendor text as it is: spacing, unicode escapes and number forms', () => {
    const record = '{ "name" : "caf\\u00e9 \\ud83d\\ude00", "n": 1.0, "e": 1E+5, "z": -0, "slash": "a\\/b", "tab":"\\t" }';
    const text = `{"value": [${record} , {"a":[ ]}]}`;
    expect(elementTexts(text, 'value')).toEqual([record, '{"a":[ ]}']);
  });

  it('compacts an element with line breaks between tokens (a pretty-printed page), leaving strings untouched', () => {
    const items = [{ a: 'x  y', b: [1, { c: ' } " ' }], d: {} }, { e: [] }];
    const text = JSON.stringify({ data: { items } }, null, 2);
    expect(text).toContain('\n');
    const texts = elementTexts(text, 'data.items');
    expect(texts).toEqual(items.map((e) => JSON.stringify(e)));
    for (const t of texts) expect(t).not.toMatch(/[\r\n]/);
    expect(compactJson('{\r\n\t"a" :\t[ 1 ,\n 2 ],"b":" \\" \\n "\n}')).toBe('{"a":[1,2],"b":" \\" \\n "}');
  });

  it('finds bare arrays, paths through several objects, keys with dots, and says when the path is missing or not an array', () => {
    expect(elementTexts(' [ {"a":1} ,2 ] ', '')).toEqual(['{"a":1}', '2']);
    expect(elementTexts('{"a.b":{"c":[true]}}', ['a.b', 'c'])).toEqual(['true']);
    expect(scanJsonArray('{"data":{"items":[]}}', 'data.items')).toMatchObject({ found: 'array', length: 0 });
    expect(scanJsonArray('{"data":{}}', 'data.items')).toMatchObject({ found: 'missing', length: 0 });
    expect(scanJsonArray('{"data":null}', 'data.items')).toMatchObject({ found: 'missing', length: 0 });
    expect(scanJsonArray('{"data":{"items":{"a":[1]}}}', 'data.items')).toMatchObject({ found: 'other', length: 0 });
    expect(scanJsonArray('{"a":1}', '')).toMatchObject({ found: 'other', length: 0 });
    // Only the path's keys count: an `items` elsewhere is not it.
    expect(elementTexts('{"x":{"items":[1]},"data":{"items":[2],"y":{"items":[3]}}}', 'data.items')).toEqual(['2']);
  });

  it('takes the last of a repeated key, as JSON.parse does', () => {
    const text = '{"value":[1,2],"value":[3]}';
    expect(elementTexts(text, 'value')).toEqual((JSON.parse(text).value as number[]).map(String));
    const fields = scanJsonArray('[{"id":"a","id":"b"}]', '', ['id']);
    expect(fields.fieldValue(0, 0)).toBe('b');
  });

  it('reads top-level fields of each record as JSON.parse gives them, and not nested fields of the same name', () => {
    const records = [
      { id: 'plain', n: 7, o: { id: 'nested' } },
      { o: { id: 'nested' }, n: 1.5, id: 'with "quotes" and \\ and é' },
      { id: ['a', 'b'], n: null },
      { x: 1 },
    ];
    const scan = scanJsonArray(JSON.stringify({ value: records }), 'value', ['id', 'n']);
    expect(Array.from({ length: scan.length }, (_, i) => [scan.fieldValue(i, 0), scan.fieldValue(i, 1)])).toEqual(records.map((r) => [r.id, r.n]));
    const escaped = scanJsonArray('[{"k\\u0065y":"v\\u00e9"}]', '', ['key']);
    expect(escaped.fieldValue(0, 0)).toBe('vé');
    expect(escaped.fieldText(0, 0)).toBe('"v\\u00e9"');
  });

  it('gives the envelope: the page parsed with the array emptied', () => {
    const text = '{"code":0,"data":{"has_more":true,"items":[{"a":"]"}],"page_token":"t"}}';
    expect(scanJsonArray(text, 'data.items').envelope()).toEqual({ code: 0, data: { has_more: true, items: [], page_token: 't' } });
    expect(scanJsonArray('{"value":5}', 'value').envelope()).toEqual({ value: 5 });
  });

  it('refuses exactly the texts JSON.parse refuses: every truncation and single-character corruption of a page', () => {
    const page = JSON.stringify({ code: 0, data: { items: [{ a: 'x"]}\\\u00e9', b: [1.5, -2e3, 0, true, false, null], c: {} }, [], 'é'] } }).replace('1.5', '1.50');
    const pretty = JSON.stringify(JSON.parse(page), null, 1);
    const replacements = ['"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\n', '\u0001', '\t', '0', '1', 'a', '-', '+', '.', 'e', 'u', 'n', '\ufeff'];
    const random = seededRandom(20);
    const variants: string[] = [];
    for (const text of [page, pretty]) {
      for (let i = 0; i < text.length; i++) variants.push(text.slice(0, i));
      for (let i = 0; i < text.length; i++) variants.push(text.slice(0, i) + replacements[Math.floor(random() * replacements.length)] + text.slice(i + 1));
      for (let i = 0; i < text.length; i++) variants.push(text.slice(0, i) + replacements[Math.floor(random() * replacements.length)] + text.slice(i));
    }
    let refused = 0;
    for (const text of variants) {
      let parsed = true;
      try {
        JSON.parse(text);
      } catch {
        parsed = false;
      }
      let scanned: unknown;
      try {
        scanned = scanJsonArray(text, 'data.items');
      } catch (error) {
        scanned = error;
      }
      if (parsed) expect(scanned, JSON.stringify(text)).not.toBeInstanceOf(Error);
      else {
        expect(scanned, JSON.stringify(text)).toBeInstanceOf(JsonSyntaxError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(variants.length / 2);
  });

  it('says where the text broke, and that it ends early when it was truncated', () => {
    expect(() => scanJsonArray('{"value":[{"a":1},{"b":', 'value')).toThrow(/invalid JSON at character 23: the text ends inside a value \(truncated\?\)/);
    expect(() => scanJsonArray('{"value":[{"a":1}}', 'value')).toThrow(/invalid JSON at character 17: ',' or '\]' was expected/);
    expect(() => scanJsonArray('[{"a":"x\ny"}]', '')).toThrow(/control character in a string/);
    expect(() => scanJsonArray('[{"a":"\\x"}]', '')).toThrow(/unknown escape/);
    expect(() => scanJsonArray('[01]', '')).toThrow(JsonSyntaxError);
    expect(() => scanJsonArray('', '')).toThrow(/the text is empty/);
    expect(() => scanJsonArray('[1] x', '')).toThrow(/text after the end/);
    expect(() => scanJsonArray(`[${'['.repeat(2000)}${']'.repeat(2000)}]`, '')).toThrow(/nesting deeper than 1000/);
  });
});

describe('jsonRecords and the pulling id', () => {
  const response = (text: string, status = 200): HttpResponse => ({
    status,
    headers: {},
    text,
    url: 'https://vendor.example/api/list?x=1',
    json: () => JSON.parse(text) as never,
  });

  it('sends each record as the vendor text with the pulling id appended, no re-serialisation', () => {
    const text = '{"data":{"items":[{"unique_id":"7\\u00e9","n":1.0, "s":"a b"},{"unique_id":12},{},"text",null,[1]]}}';
    const page = jsonRecords(response(text), 'data.items', ['unique_id']);
    expect(page.found).toBe('array');
    expect(page.records.slice(3)).toEqual(['text', null, [1]]);
    const [first, second, empty] = page.records as JsonRecord[];
    expect(recordField(first, 'unique_id')).toBe('7é');
    expect(recordField(second, 'unique_id')).toBe(12);
    expect(recordField(empty, 'unique_id')).toBeUndefined();
    expect(recordField({ unique_id: 'parsed' }, 'unique_id')).toBe('parsed');
    expect(() => first!.get('n')).toThrow(/not among the fields scanned/);
    const encoder = new EventEncoder('1700000000123', 'prod');
    expect(page.records.map((r) => encoder.encode(r))).toEqual([
      '{"unique_id":"7\\u00e9","n":1.0, "s":"a b","@devo_pulling_id":"1700000000123","@devo_environment":"prod"}',
      '{"unique_id":12,"@devo_pulling_id":"1700000000123","@devo_environment":"prod"}',
      '{"@devo_pulling_id":"1700000000123","@devo_environment":"prod"}',
      'text',
      'null',
      '[1]',
    ]);
    expect(JSON.stringify(first)).toBe(JSON.stringify(JSON.parse('{"unique_id":"7\\u00e9","n":1.0, "s":"a b"}')));
  });

  it('reads a plain string field without parsing it, and leaves every other value to get()', () => {
    const text = '[{"s":"plain","e":"caf\\u00e9","n":12,"z":null,"a":["x"],"k\\u0065y":"by an escaped key","long":"0123456789abcdefghij"}]';
    const fields = ['s', 'e', 'n', 'z', 'a', 'key', 'long', 'absent'];
    const [record] = jsonRecords(response(text), '', fields).records as JsonRecord[];
    expect(fields.map((f) => record!.plainString(f))).toEqual(['plain', undefined, undefined, undefined, undefined, 'by an escaped key', '0123456789abcdefghij', undefined]);
    // Where it gives a string, it is what get() (JSON.parse) gives.
    for (const f of fields) if (record!.plainString(f) !== undefined) expect(record!.plainString(f)).toBe(record!.get(f));
    expect(() => record!.plainString('other')).toThrow(/not among the fields scanned/);
  });

  it('gives a field as the text the vendor sent', () => {
    const text = '[{"list":[1, {"a":"\\u00e9"}],"s":"v"}]';
    const [record] = jsonRecords(response(text), '', ['list', 's', 'absent']).records as JsonRecord[];
    expect([record!.fieldText('list'), record!.fieldText('s'), record!.fieldText('absent')]).toEqual(['[1, {"a":"\\u00e9"}]', '"v"', undefined]);
  });

  it('sends a record that holds @devo_pulling_id already as it is', () => {
    const [record] = jsonRecords(response('[{"a":1,"@devo_pulling_id":"theirs"}]'), '').records;
    expect(new EventEncoder('1700000000123').encode(record)).toBe('{"a":1,"@devo_pulling_id":"theirs"}');
  });

  it('sends a pretty-printed record as one line', () => {
    const text = JSON.stringify({ value: [{ id: 'a', nested: { list: [1, 2] } }] }, null, 4);
    const [record] = jsonRecords(response(text), 'value', ['id']).records;
    expect(new EventEncoder('1').encode(record)).toBe('{"id":"a","nested":{"list":[1,2]},"@devo_pulling_id":"1"}');
  });

  it('an invalid page is HttpError("body") naming the host, the path and where it broke', () => {
    let error: unknown;
    try {
      jsonRecords(response('{"value":[{"a":1},'), 'value');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ kind: 'body', status: 200 });
    expect((error as Error).message).toMatch(/^Invalid JSON from vendor\.example\/api\/list \(HTTP 200\): invalid JSON at character 18: the text ends/);
  });
});
