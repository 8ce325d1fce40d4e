/**
 * Vendor records forwarded as the bytes the vendor sent. `parseJsonRecords` parses a page once and remembers
 * the JSON text of each record of the named arrays, so the encoder appends `@devo_pulling_id` to that text
 * instead of serialising the object again, and `canonicalJson` sorts the keys of that text instead of walking
 * the object. The objects are still there for what the vendor code reads (dedup key, checkpoint time).
 */

/**
 * Where a remembered record keeps its text: a non-enumerable symbol property, so a copy (`{ ...record }`,
 * structuredClone) does not carry it, and JSON.stringify and Object.keys do not see it. (A WeakMap cost
 * about 2 µs an entry.)
 */
const RAW_JSON = Symbol('raw JSON text');

/** The JSON text `parseJsonRecords` remembered for this record, if any. */
export function rawJsonOf(record: unknown): string | undefined {
  return typeof record === 'object' && record !== null ? ((record as { [RAW_JSON]?: string })[RAW_JSON]) : undefined;
}

/** Malformed JSON given to the scanner (`parseJsonRecords` reports malformed pages as JSON.parse does). */
export class JsonScanError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at position ${position}`);
    this.name = 'JsonScanError';
  }
}

const QUOTE = 34; // "
const BACKSLASH = 92; // \
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/**
 * A forward scanner over JSON text: finds where values end without building them. `spaced` records whether
 * whitespace appeared between tokens of the last value skipped (such a record is re-serialised instead, so a
 * pretty-printed answer never puts a line break into a syslog line).
 */
class Scanner {
  spaced = false;

  constructor(readonly text: string) {}

  fail(message: string, at: number): never {
    throw new JsonScanError(message, at);
  }

  ws(i: number): number {
    const t = this.text;
    while (i < t.length && isSpace(t.charCodeAt(i))) i++;
    return i;
  }

  /** `i` at an opening quote; returns the index after the closing one. */
  string(i: number): number {
    const t = this.text;
    let j = i + 1;
    for (;;) {
      const close = t.indexOf('"', j);
      if (close < 0) this.fail('Unterminated string', i);
      let slashes = 0;
      for (let k = close - 1; k > i && t.charCodeAt(k) === BACKSLASH; k--) slashes++;
      if (slashes % 2 === 0) return close + 1;
      j = close + 1;
    }
  }

  /** `i` at the first character of a value; returns the index after it. */
  value(i: number): number {
    const t = this.text;
    const c = t.charCodeAt(i);
    if (c === QUOTE) return this.string(i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) return this.container(i);
    // A number or a literal: up to the next delimiter.
    let j = i;
    while (j < t.length) {
      const d = t.charCodeAt(j);
      if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d === COLON || isSpace(d)) break;
      if (d === QUOTE || d === OPEN_BRACE || d === OPEN_BRACKET) this.fail('Unexpected character', j);
      j++;
    }
    if (j === i) this.fail(i >= t.length ? 'Unexpected end of JSON' : 'Expected a value', i);
    return j;
  }

  /** An object or array: brackets counted, strings skipped (their brackets do not count). */
  private container(i: number): number {
    const t = this.text;
    const stack: number[] = [];
    let j = i;
    while (j < t.length) {
      const c = t.charCodeAt(j);
      if (c === QUOTE) {
        j = this.string(j);
        continue;
      }
      if (c === OPEN_BRACE) stack.push(CLOSE_BRACE);
      else if (c === OPEN_BRACKET) stack.push(CLOSE_BRACKET);
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (stack.pop() !== c) this.fail('Unbalanced bracket', j);
        if (stack.length === 0) return j + 1;
      } else if (isSpace(c)) this.spaced = true;
      j++;
    }
    return this.fail('Unterminated object or array', i);
  }

  /** `i` at `[`: the [start, end) of each element, and whether it was written without whitespace. */
  elements(i: number): { start: number; end: number; compact: boolean }[] {
    const t = this.text;
    if (t.charCodeAt(i) !== OPEN_BRACKET) this.fail('Expected an array', i);
    const out: { start: number; end: number; compact: boolean }[] = [];
    let j = this.ws(i + 1);
    if (t.charCodeAt(j) === CLOSE_BRACKET) return out;
    for (;;) {
      this.spaced = false;
      const end = this.value(j);
      out.push({ start: j, end, compact: !this.spaced });
      j = this.ws(end);
      const c = t.charCodeAt(j);
      if (c === CLOSE_BRACKET) return out;
      if (c !== COMMA) this.fail(j >= t.length ? 'Unterminated array' : "Expected ',' or ']'", j);
      j = this.ws(j + 1);
    }
  }

  /**
   * `i` at `{`: where the value of member `key` starts (the last one, as JSON.parse keeps the last of
   * repeated keys), or -1. Keys with escapes are compared after decoding.
   */
  member(i: number, key: string): number {
    const t = this.text;
    if (t.charCodeAt(i) !== OPEN_BRACE) this.fail('Expected an object', i);
    let found = -1;
    let j = this.ws(i + 1);
    if (t.charCodeAt(j) === CLOSE_BRACE) return found;
    for (;;) {
      if (t.charCodeAt(j) !== QUOTE) this.fail('Expected a key', j);
      const keyEnd = this.string(j);
      const raw = t.slice(j + 1, keyEnd - 1);
      const name = raw.includes('\\') ? (JSON.parse(t.slice(j, keyEnd)) as string) : raw;
      j = this.ws(keyEnd);
      if (t.charCodeAt(j) !== COLON) this.fail("Expected ':'", j);
      j = this.ws(j + 1);
      if (name === key) found = j;
      j = this.ws(this.value(j));
      const c = t.charCodeAt(j);
      if (c === CLOSE_BRACE) return found;
      if (c !== COMMA) this.fail(j >= t.length ? 'Unterminated object' : "Expected ',' or '}'", j);
      j = this.ws(j + 1);
    }
  }
}

/**
 * The JSON text of each element of the array at the start of `text` (after whitespace), exactly as written.
 * Throws JsonScanError on text that is not a well-formed array, never returns part of one.
 */
export function splitJsonArray(text: string): string[] {
  const scanner = new Scanner(text);
  const start = scanner.ws(0);
  const elements = scanner.elements(start);
  const end = scanner.ws(scanner.value(start));
  if (end !== text.length) scanner.fail('Unexpected text after the array', end);
  return elements.map((e) => text.slice(e.start, e.end));
}

/**
 * `JSON.parse(text)`, and for each array at one of `paths` (keys from the top: `[['data', 'items']]`; `[[]]`
 * for an answer that is the array itself) the JSON text of each of its objects is remembered: the encoder
 * sends that text (plus `@devo_pulling_id`) instead of serialising the object again, so the vendor's bytes
 * reach Devo as sent. Those objects are frozen: a service that wants to send something else builds a new
 * object (which is serialised as usual). Records written with whitespace inside are serialised as before.
 * Throws what JSON.parse throws for malformed text. A path that is absent or not an array is skipped.
 */
export function parseJsonRecords(text: string, paths: readonly (readonly string[])[]): unknown {
  const body = JSON.parse(text) as unknown;
  for (const path of paths) {
    let node = body;
    for (const key of path) node = node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined;
    if (!Array.isArray(node) || node.length === 0) continue;
    const scanner = new Scanner(text);
    let at = scanner.ws(0);
    for (const key of path) at = scanner.member(at, key);
    const elements = scanner.elements(at);
    // JSON.parse accepted the text, so the scanner agrees with it; if it ever did not, nothing is remembered.
    if (elements.length !== node.length) continue;
    for (let i = 0; i < node.length; i++) {
      const record: unknown = node[i];
      const element = elements[i]!;
      if (record === null || typeof record !== 'object' || Array.isArray(record) || !element.compact) continue;
      Object.defineProperty(record, RAW_JSON, { value: text.slice(element.start, element.end) });
      Object.freeze(record);
    }
  }
  return body;
}

/**
 * JSON with the keys of every object sorted (UTF-16 order), no whitespace: the same text for the same record
 * whatever its key order, e.g. for a dedup key over a whole record. From the remembered text of a record when
 * it has one and that text is written the way JSON.stringify writes (no whitespace, no `\u`/`\/` escapes,
 * integers only): then only objects whose keys are out of order are rebuilt. Otherwise from the object.
 */
export function canonicalJson(value: unknown): string {
  const raw = rawJsonOf(value);
  if (raw !== undefined) {
    const canonical = new Canonicalizer(raw).whole();
    if (canonical !== undefined) return canonical;
  }
  return canonicalOfValue(value);
}

function canonicalOfValue(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalOfValue(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const field = record[key];
    if (field === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalOfValue(field)}`;
  }
  return `${out}}`;
}

/** Escapes JSON.stringify writes the same way it reads them: a string with only these needs no rewriting. */
const PLAIN_ESCAPES = new Set([QUOTE, BACKSLASH, 98, 102, 110, 114, 116]); // " \ b f n r t

/** Thrown inside the canonicalizer when the text is not written the way JSON.stringify writes. */
const NOT_PLAIN = Symbol('not plain');

/**
 * Canonical JSON from compact JSON text. `value` returns `true` when the canonical form of a value is its text
 * as written (the usual case: nothing to allocate), or the rebuilt text of an object whose keys were out of
 * order (or of a container holding one).
 */
class Canonicalizer {
  private pos = 0;
  /** The next backslash at or after the last place looked at (text.length when none): one search per escape, not per string. */
  private slash = -1;

  constructor(private readonly text: string) {}

  whole(): string | undefined {
    try {
      const result = this.value();
      if (this.pos !== this.text.length) return undefined;
      return result === true ? this.text : result;
    } catch (error) {
      if (error === NOT_PLAIN) return undefined;
      throw error;
    }
  }

  private value(): true | string {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === QUOTE) {
      this.string();
      return true;
    }
    if (c === OPEN_BRACE) return this.object();
    if (c === OPEN_BRACKET) return this.array();
    const start = this.pos;
    let j = start;
    while (j < t.length) {
      const d = t.charCodeAt(j);
      if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET) break;
      // Only integers of at most 15 digits are written back as they came ("1.0" becomes "1", "1e3" "1000").
      if (!((d >= 48 && d <= 57) || d === 45 || (d >= 97 && d <= 122))) throw NOT_PLAIN;
      j++;
    }
    const token = t.slice(start, j);
    if (token !== 'true' && token !== 'false' && token !== 'null' && (!/^-?(0|[1-9]\d{0,14})$/.test(token) || token === '-0')) throw NOT_PLAIN;
    this.pos = j;
    return true;
  }

  private string(): void {
    const t = this.text;
    const start = this.pos;
    let j = start + 1;
    for (;;) {
      const close = t.indexOf('"', j);
      if (close < 0) throw NOT_PLAIN;
      if (this.slash < j) {
        const next = t.indexOf('\\', j);
        this.slash = next < 0 ? t.length : next;
      }
      const slash = this.slash;
      if (slash > close) {
        this.pos = close + 1;
        return;
      }
      if (!PLAIN_ESCAPES.has(t.charCodeAt(slash + 1))) throw NOT_PLAIN;
      j = slash + 2;
    }
  }

  private array(): true | string {
    const t = this.text;
    this.pos++;
    if (t.charCodeAt(this.pos) === CLOSE_BRACKET) {
      this.pos++;
      return true;
    }
    const parts: (true | string)[] = [];
    const spans: number[] = [];
    let rebuilt = false;
    for (;;) {
      const from = this.pos;
      const part = this.value();
      if (part !== true) rebuilt = true;
      parts.push(part);
      spans.push(from, this.pos);
      const c = t.charCodeAt(this.pos++);
      if (c === CLOSE_BRACKET) break;
      if (c !== COMMA) throw NOT_PLAIN;
    }
    if (!rebuilt) return true;
    return `[${parts.map((p, i) => (p === true ? t.slice(spans[2 * i]!, spans[2 * i + 1]!) : p)).join(',')}]`;
  }

  private object(): true | string {
    const t = this.text;
    this.pos++;
    if (t.charCodeAt(this.pos) === CLOSE_BRACE) {
      this.pos++;
      return true;
    }
    const members: { key: string; from: number; to: number; value: true | string }[] = [];
    let sorted = true;
    let rebuilt = false;
    let previous: string | undefined;
    for (;;) {
      if (t.charCodeAt(this.pos) !== QUOTE) throw NOT_PLAIN;
      const keyStart = this.pos;
      this.string();
      const key = t.slice(keyStart + 1, this.pos - 1);
      // A key with escapes would sort by its decoded text: not worth it here.
      if (key.includes('\\')) throw NOT_PLAIN;
      if (t.charCodeAt(this.pos++) !== COLON) throw NOT_PLAIN;
      const from = this.pos;
      const value = this.value();
      if (value !== true) rebuilt = true;
      if (previous !== undefined && key <= previous) {
        // A repeated key: JSON.parse keeps the last one only.
        if (key === previous) throw NOT_PLAIN;
        sorted = false;
      }
      previous = key;
      members.push({ key, from, to: this.pos, value });
      const c = t.charCodeAt(this.pos++);
      if (c === CLOSE_BRACE) break;
      if (c !== COMMA) throw NOT_PLAIN;
    }
    if (sorted && !rebuilt) return true;
    if (!sorted) {
      members.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (let i = 1; i < members.length; i++) if (members[i]!.key === members[i - 1]!.key) throw NOT_PLAIN;
    }
    let out = '{';
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      out += `${i === 0 ? '' : ','}"${m.key}":${m.value === true ? t.slice(m.from, m.to) : m.value}`;
    }
    return `${out}}`;
  }
}
