import { describe, expect, it } from 'vitest';
import { EventEncoder, type MessageWriter } from '../src/runtime/event-encoding.js';
import { jsonRecords, type HttpResponse } from '@collector/sdk';

/** What every event used to become: its JSON text, the fields spliced in before the closing brace. */
function throughText(event: unknown, pullingId: string, environment?: string): string {
  return new EventEncoder(pullingId, environment).extend(JSON.stringify(event) ?? 'null');
}

/** The bytes encodeInto writes for one event. */
function intoBytes(encoder: EventEncoder, event: unknown): Buffer {
  const parts: Buffer[] = [];
  const out: MessageWriter = {
    write: (part) => void parts.push(Buffer.from(typeof part === 'string' ? Buffer.from(part) : part)),
    drop: (bytes) => {
      const last = parts.pop()!;
      parts.push(last.subarray(0, last.length - bytes));
    },
  };
  encoder.encodeInto(event, out);
  return Buffer.concat(parts);
}

class Breach {
  constructor(readonly pbid: number) {}
}

const records: [string, unknown][] = [
  ['a parsed vendor record', JSON.parse('{"pbid":7,"time":1700000000000,"model":{"name":"Anomalous \\"Connection\\"","tags":["a","b"]},"x":null}')],
  ['integer-like keys (sorted first by JSON)', JSON.parse('{"b":1,"10":2,"a":3,"2":4}')],
  ['non-ASCII and escapes', { text: 'é ✓ 😀 \n\t\u2028', 'key "q"': '\\' }],
  ['undefined and function values (left out)', { a: undefined, b: () => 1, c: 1 }],
  ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1, b: [1, 2] })],
  ['an empty object', {}],
  ['a record with __proto__ as a key (JSON.parse makes it an own property)', JSON.parse('{"__proto__":{"x":1},"y":2}')],
  ['a record that holds @devo_pulling_id with no value', { a: 1, '@devo_pulling_id': undefined, b: 2 }],
  ['a record that already holds @devo_environment', { a: 1, '@devo_environment': 'own' }],
  ['a class instance', new Breach(9)],
  ['a record with its own toJSON', { a: 1, toJSON: () => ({ b: 2 }) }],
  ['a Date', new Date(0)],
  ['an array', [1, { a: 2 }]],
  ['a number', 42],
  ['null', null],
];

describe('EventEncoder', () => {
  for (const environment of [undefined, 'prod "eu"']) {
    for (const [name, record] of records) {
      it(`writes ${name} as the text path does${environment ? ', with an environment' : ''}`, () => {
        const expected = throughText(record, '1700000000123', environment);
        expect(new EventEncoder('1700000000123', environment).encode(record)).toBe(expected);
      });
    }
  }

  for (const environment of [undefined, 'prod "eu"']) {
    it(`writes every event as bytes exactly as the UTF-8 of its message${environment ? ', with an environment' : ''}`, () => {
      const encoder = new EventEncoder('1700000000123', environment);
      // Records forwarded as the vendor's text (jsonRecords): pretty-printed, escaped, empty, holding a pulling id.
      const page = '{"items": [ {"a": 1.0, "s": "\\u00e9 ✓"},\n  {\n    "b" : [1, 2]\n  }, {}, {"@devo_pulling_id": "own", "c": 3} ]}';
      const { records: forwarded } = jsonRecords({ status: 200, headers: {}, text: page, url: 'https://vendor.example/p', json: () => JSON.parse(page) } as HttpResponse, 'items');
      const events = [...records.map(([, record]) => record), ...forwarded, '{"a":1}', 'plain text é ✓', 'lone \ud800 surrogate', '', { a: 1, '@devo_pulling_id': 'x' }];
      const tail = encoder.extend('{"x":0}').slice('{"x":0'.length); // ,"@devo_pulling_id":"…"}
      expect(forwarded.map((r) => encoder.encode(r))).toEqual([
        `{"a": 1.0, "s": "\\u00e9 ✓"${tail}`,
        `{"b":[1,2]${tail}`,
        encoder.extend('{}'),
        '{"@devo_pulling_id": "own", "c": 3}',
      ]);
      for (const event of events) expect(intoBytes(encoder, event).equals(Buffer.from(encoder.encode(event)))).toBe(true);
    });
  }

  it('extendInto writes the bytes of extend() for any text', () => {
    const encoder = new EventEncoder('1700000000123', 'prod');
    for (const json of ['{"a":1}', '{}', '{ \n }', '{"é":"✓"}', '[1]', '"x"', '', '{', 'null']) {
      const parts: Buffer[] = [];
      encoder.extendInto(json, {
        write: (part) => void parts.push(Buffer.from(typeof part === 'string' ? Buffer.from(part) : part)),
        drop: (bytes) => void parts.push(parts.pop()!.subarray(0, -bytes)),
      });
      expect(Buffer.concat(parts).toString()).toBe(encoder.extend(json));
    }
  });

  it('leaves a record that carries its own @devo_pulling_id as it is', () => {
    expect(new EventEncoder('1').encode({ a: 1, '@devo_pulling_id': 'x' })).toBe('{"a":1,"@devo_pulling_id":"x"}');
  });

  it('sends a string as it is', () => {
    expect(new EventEncoder('1').encode('{"a":1}')).toBe('{"a":1}');
  });

  it("never changes the vendor's object: a vendor may hash or read it after yielding it", () => {
    const record = JSON.parse('{"id":"i1","score":0.5}') as Record<string, unknown>;
    const message = new EventEncoder('1700000000123', 'prod').encode(record);
    expect(message).toBe('{"id":"i1","score":0.5,"@devo_pulling_id":"1700000000123","@devo_environment":"prod"}');
    expect(Object.keys(record)).toEqual(['id', 'score']);
  });
});
