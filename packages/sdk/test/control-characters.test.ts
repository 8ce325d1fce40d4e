import { StringDecoder } from 'node:string_decoder';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, scanJsonArray } from '../src/json/json-array-scan.js';
import { hasControlCharacter, hasControlCharacterByIncludes, hasControlCharacterByWords } from '../src/json/control-characters.js';

/** The answer every check must give. */
const reference = (text: string): boolean => /[\0-\x1f]/.test(text);

function expectAgreement(text: string): void {
  const expected = reference(text);
  expect(hasControlCharacterByWords(text)).toBe(expected);
  expect(hasControlCharacterByIncludes(text)).toBe(expected);
  expect(hasControlCharacter(text)).toBe(expected);
}

/** `text` with character `code` at `at`. */
const withCharacter = (text: string, at: number, code: number): string => text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1);

/** `text` as the HTTP client builds a page: one StringDecoder string per 64 KiB read, concatenated. */
function asReceived(text: string): string {
  const bytes = Buffer.from(text);
  const decoder = new StringDecoder('utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i += 65536) out += decoder.write(bytes.subarray(i, i + 65536));
  return out + decoder.end();
}

// Around the word pass's 16-byte group, its 64 Ki-character piece and its 32 Ki-unit UTF-16 piece, and beyond its
// 64 KiB buffer.
const SHORT = [...Array.from({ length: 66 }, (_, n) => n), 127, 128, 129, 4095, 4096, 4097];
const LONG = [32767, 32768, 32769, 65535, 65536, 65537, 131071, 131072, 131073, 300_000, (1 << 20) - 1, 1 << 20, (1 << 20) + 1];
// One-byte text, and two-byte text whose characters' low byte is a control code (U+0100, U+0A0A, U+1F00, U+4E00).
const FILLERS = ['a', '\u00e9', '\u0100', '\u0a0a', '\u1f00', '\u4e00'];

// hasControlCharacter takes the word pass from a million characters: the tests call hasControlCharacterByWords
// for shorter texts.
describe('hasControlCharacter', () => {
  it('is false for the empty text and true for a single control character', () => {
    expectAgreement('');
    expect(hasControlCharacterByWords('')).toBe(false);
    for (let c = 0; c < 32; c++) expect(hasControlCharacterByWords(String.fromCharCode(c))).toBe(true);
    for (const c of [32, 127, 0x80, 0xa0, 0xff, 0x100, 0x10a, 0xa0a, 0x1f00, 0xd83d, 0xffff]) expect(hasControlCharacterByWords(String.fromCharCode(c))).toBe(false);
  });

  it('agrees with /[\\0-\\x1f]/ for each control character at the start, middle and end of short texts', () => {
    for (const filler of FILLERS) {
      for (const n of SHORT) {
        const text = filler.repeat(n);
        expectAgreement(text);
        for (let c = 0; c < 32; c++) for (const at of new Set([0, n >> 1, n - 1])) if (at >= 0) expectAgreement(withCharacter(text, at, c));
      }
    }
  });

  it('agrees on texts longer than one piece and than its memory, with a control character on either side of each boundary', () => {
    for (const filler of FILLERS) {
      for (const n of LONG) {
        const text = filler.repeat(n);
        expectAgreement(text);
        for (const c of [0, 9, 10, 13, 31]) {
          for (const at of new Set([0, n >> 1, n - 1, 32767, 32768, 65535, 65536, 131071, 131072, n - 65537])) if (at >= 0 && at < n) expectAgreement(withCharacter(text, at, c));
        }
      }
    }
  });

  it('agrees on two-byte texts whose two-byte characters come late, or only after many false positives', () => {
    const late = `${'a'.repeat(200_000)}\u0100${'b'.repeat(1000)}`;
    expectAgreement(late);
    expectAgreement(`${late}\u001f`);
    // Every piece read as bytes looks positive; the control character is in the last one only.
    const cjk = '\u4e00\u0a0a\u1f00x'.repeat(100_000);
    expectAgreement(cjk);
    expectAgreement(`${cjk}\n`);
    expectAgreement(withCharacter(cjk, 200_001, 0));
    // A lone surrogate is a code unit like any other.
    expectAgreement('\ud800'.repeat(70_000));
    expectAgreement(`${'\udc00'.repeat(70_000)}\r`);
  });

  it('agrees on pages as the HTTP client builds them (concatenated strings), one-byte and two-byte', () => {
    const record = (i: number, name: string) => ({ id: i, name, time: '2026-12-06T12:00:00Z', tags: ['a', 'b'], nested: { n: i * 1.5 } });
    for (const name of ['plain', 'caf\u00e9', '\u98de\u4e66 \u4e00\u0100', 'emoji \ud83d\ude00']) {
      const page = JSON.stringify({ data: { items: Array.from({ length: 3000 }, (_, i) => record(i, name)) } });
      expect(page.length).toBeGreaterThan(200_000);
      expectAgreement(asReceived(page));
      expectAgreement(asReceived(JSON.stringify(JSON.parse(page), null, 2)));
      expectAgreement(asReceived(withCharacter(page, page.length - 3, 0x1b)));
      expectAgreement(asReceived(withCharacter(page, 65_536 * 2 + 1, 0x7)));
    }
  });

  it('gives the same answer again for the same text, after texts of other lengths (its memory is reused)', () => {
    const dirty = `${'x'.repeat(100)}\u0000`;
    expect(hasControlCharacterByWords(`${'y'.repeat(300_000)}\u0001`)).toBe(true);
    expect(hasControlCharacterByWords('z'.repeat(10))).toBe(false);
    expect(hasControlCharacterByWords(dirty)).toBe(true);
    expect(hasControlCharacterByWords(dirty.slice(0, 100))).toBe(false);
  });

  it('lets the page scan of a long page (the word pass) refuse a raw control character and compact a pretty-printed page, as before', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({ pbid: i, model: { name: 'Device::Anomalous Connection \u4e00' }, score: 0.5 }));
    const page = JSON.stringify(items);
    expect(page.length).toBeGreaterThan(1 << 20);
    expect(scanJsonArray(asReceived(page), '', ['pbid']).length).toBe(20_000);
    const broken = withCharacter(page, page.lastIndexOf('Anomalous') + 2, 0x1);
    expect(() => JSON.parse(broken) as unknown).toThrow(SyntaxError);
    expect(() => scanJsonArray(asReceived(broken), '')).toThrow(JsonSyntaxError);
    const pretty = scanJsonArray(asReceived(JSON.stringify(items, null, 1)), '');
    expect(pretty.elementText(19_999)).toBe(JSON.stringify(items[19_999]));
  });
});
