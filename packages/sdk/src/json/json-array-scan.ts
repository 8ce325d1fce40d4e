/**
 * Finds the records of a page (the elements of the array at `path` in a JSON text) as spans of that text,
 * without building a JS value per record: a collector that forwards records unchanged then sends the
 * vendor's own text (plus `@devo_pulling_id`) instead of `JSON.stringify(JSON.parse(text))`, and reads only
 * the few top-level fields it needs (its dedup key) from the text.
 *
 * It validates the whole text as JSON (RFC 8259: structure, strings and their escapes, numbers, literals) and
 * throws JsonSyntaxError at the first fault, so what it returns is what `JSON.parse` would have accepted and
 * every span it hands out is one valid JSON value. The AWS collector's record scanner (packages/aws-sqs,
 * formats/json-scanner.ts) splits a byte stream of unbounded size in a worker; a page here is one JS string
 * already in memory, so this walks the string with `charCodeAt` (no buffering, no chunk boundaries) and shares
 * only its lesson: one tight loop for string contents, where most of the bytes are.
 */

import { hasControlCharacter } from './control-characters.js';

export class JsonSyntaxError extends Error {
  constructor(
    /** The UTF-16 offset in the text where the fault was found. */
    readonly offset: number,
    detail: string,
  ) {
    super(`invalid JSON at character ${offset}: ${detail}`);
    this.name = 'JsonSyntaxError';
  }
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const COMMA = 44;
const COLON = 58;
const SPACE = 32;
const TAB = 9;
const LF = 10;
const CR = 13;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
/** Deeper nesting is refused rather than risking the stack (V8's own JSON.parse has no fixed limit). */
const MAX_DEPTH = 1000;

/** What the character after a backslash may be: `"\/bfnrt` (and `u`, handled apart). */
const SIMPLE_ESCAPE = new Uint8Array(128);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * A validating walk over one text: each method moves `pos` past one JSON value or token, or throws
 * JsonSyntaxError. Fields of one object rather than variables captured by closures: measured faster.
 */
class Cursor {
  pos = 0;
  /** A CR or LF was seen between tokens since the last reset (a pretty-printed value). */
  sawBreak = false;
  /** The last string scanned held a backslash (its text is not its value). */
  escaped = false;
  readonly end: number;
  /** The text holds no control character (so no raw one inside a string, and no line break at all). */
  private readonly plain: boolean;
  /** Where the next backslash at or after the current string is (a cache: one `indexOf` per backslash). */
  private nextBackslash = -1;

  constructor(readonly text: string) {
    this.end = text.length;
    // No control character (whitespace other than the space, or one JSON allows only escaped in a string).
    this.plain = !hasControlCharacter(text);
  }

  /** `detail` 'unexpected end' (or any fault found at the end of the text) says the text ends early. */
  fail(detail: string, at = this.pos): never {
    throw new JsonSyntaxError(at, at >= this.end ? `the text ends ${detail === 'unexpected end' ? 'inside a value (truncated?)' : `early: ${detail}`}` : detail);
  }

  /** Skips whitespace; returns the next character (NaN at the end). */
  space(): number {
    const s = this.text;
    let p = this.pos;
    let c = s.charCodeAt(p);
    if (c > SPACE) return c; // compact JSON: no whitespace between most tokens
    while (c === SPACE || c === LF || c === CR || c === TAB) {
      if (c !== SPACE && c !== TAB) this.sawBreak = true;
      c = s.charCodeAt(++p);
    }
    this.pos = p;
    return c;
  }

  /**
   * At an opening quote: moves past the closing one. In a text without control characters (any JSON that
   * is not pretty-printed) the closing quote is found with a native `indexOf`, and only a string that holds
   * a backslash is read character by character; otherwise every character is checked.
   */
  string(): void {
    if (!this.plain) return this.checkedString();
    const s = this.text;
    const from = this.pos + 1;
    const close = s.indexOf('"', from);
    if (close < 0) this.fail('unexpected end', this.end);
    if (this.nextBackslash < from) {
      const next = s.indexOf('\\', from);
      this.nextBackslash = next < 0 ? Infinity : next;
    }
    if (this.nextBackslash < close) return this.checkedString();
    this.escaped = false;
    this.pos = close + 1;
  }

  /** `string()` one character at a time: escapes, and control characters, which JSON allows only escaped. */
  private checkedString(): void {
    const s = this.text;
    const n = this.end;
    let p = this.pos + 1;
    let escaped = false;
    for (;;) {
      if (p >= n) this.fail('unexpected end', n);
      const c = s.charCodeAt(p);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escaped = true;
        const e = s.charCodeAt(p + 1);
        if (e === 117 /* u */) {
          if (!(isHex(s.charCodeAt(p + 2)) && isHex(s.charCodeAt(p + 3)) && isHex(s.charCodeAt(p + 4)) && isHex(s.charCodeAt(p + 5)))) this.fail(p + 6 > n ? 'unexpected end' : 'a \\u escape needs four hex digits', p + 6 > n ? n : p);
          p += 6;
        } else {
          if (!(e < 128 && SIMPLE_ESCAPE[e] === 1)) this.fail(p + 1 >= n ? 'unexpected end' : 'an unknown escape in a string', p + 1 >= n ? n : p);
          p += 2;
        }
        continue;
      }
      if (c < 32) this.fail('a control character in a string (it must be escaped)', p);
      p++;
    }
    this.escaped = escaped;
    this.pos = p + 1;
  }

  /** At the first character of a number: moves past it (JSON's grammar: no `+`, no leading zeros, no `.5`). */
  number(): void {
    const s = this.text;
    let p = this.pos;
    let c = s.charCodeAt(p);
    if (c === MINUS) c = s.charCodeAt(++p);
    if (c === ZERO) c = s.charCodeAt(++p);
    else if (c > ZERO && c <= NINE) {
      do c = s.charCodeAt(++p);
      while (c >= ZERO && c <= NINE);
    } else this.fail(p >= this.end ? 'unexpected end' : 'a number needs a digit', p);
    if (c === DOT) {
      c = s.charCodeAt(++p);
      if (!(c >= ZERO && c <= NINE)) this.fail(p >= this.end ? 'unexpected end' : 'a digit must follow the decimal point', p);
      do c = s.charCodeAt(++p);
      while (c >= ZERO && c <= NINE);
    }
    if (c === 101 || c === 69 /* e E */) {
      c = s.charCodeAt(++p);
      if (c === 43 || c === MINUS) c = s.charCodeAt(++p);
      if (!(c >= ZERO && c <= NINE)) this.fail(p >= this.end ? 'unexpected end' : 'a digit must follow the exponent', p);
      do c = s.charCodeAt(++p);
      while (c >= ZERO && c <= NINE);
    }
    this.pos = p;
  }

  private literal(word: string): void {
    if (!this.text.startsWith(word, this.pos)) {
      // `tru` at the very end is a truncated text, `trux` a wrong one.
      const truncated = this.pos + word.length > this.end && word.startsWith(this.text.slice(this.pos));
      this.fail(truncated ? 'unexpected end' : 'an unexpected character', truncated ? this.end : this.pos);
    }
    this.pos += word.length;
  }


  /** At the first character of a value (no whitespace before it): moves past the value. */
  value(depth: number): void {
    const c = this.text.charCodeAt(this.pos);
    if (c === QUOTE) this.string();
    else if (c === OPEN_OBJECT) this.object(depth + 1);
    else if (c === OPEN_ARRAY) this.array(depth + 1);
    else if (c === 116 /* t */) this.literal('true');
    else if (c === 102 /* f */) this.literal('false');
    else if (c === 110 /* n */) this.literal('null');
    else if (c === MINUS || (c >= ZERO && c <= NINE)) this.number();
    else this.fail(this.pos >= this.end ? 'unexpected end' : 'a value was expected');
  }

  object(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.pos++;
    let c = this.space();
    if (c === CLOSE_OBJECT) {
      this.pos++;
      return;
    }
    for (;;) {
      if (c !== QUOTE) this.fail(this.pos >= this.end ? 'unexpected end' : 'a key (a string) was expected');
      this.string();
      if (this.space() !== COLON) this.fail(this.pos >= this.end ? 'unexpected end' : "':' was expected after a key");
      this.pos++;
      this.space();
      this.value(depth);
      c = this.space();
      if (c === COMMA) {
        this.pos++;
        c = this.space();
      } else if (c === CLOSE_OBJECT) {
        this.pos++;
        return;
      } else this.fail(this.pos >= this.end ? 'unexpected end' : "',' or '}' was expected");
    }
  }

  array(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.pos++;
    let c = this.space();
    if (c === CLOSE_ARRAY) {
      this.pos++;
      return;
    }
    for (;;) {
      this.value(depth);
      c = this.space();
      if (c === COMMA) {
        this.pos++;
        this.space();
      } else if (c === CLOSE_ARRAY) {
        this.pos++;
        return;
      } else this.fail(this.pos >= this.end ? 'unexpected end' : "',' or ']' was expected");
    }
  }

  /** The key just scanned (`[start, this.pos)`, quotes included) is `name`. */
  keyIs(start: number, name: string): boolean {
    const length = this.pos - start - 2;
    if (!this.escaped) return length === name.length && this.text.startsWith(name, start + 1);
    return JSON.parse(this.text.slice(start, this.pos)) === name;
  }
}

/**
 * The records of one page: element `i` of the array is `text.slice(start(i), end(i))`. `found` says what
 * was at the path: `'array'`, `'missing'` (no such key: no records), or `'other'` (a value that is not an
 * array: the vendor decides whether that is an error; no records).
 */
export class JsonArrayScan {
  /** Per element: start, end, and for each requested field the start and end of its value (-1: absent). */
  private readonly spans: number[];
  private readonly stride: number;
  /** Elements whose text holds line breaks between tokens (pretty-printed): sent compacted. */
  private readonly multiline: Set<number> | undefined;

  constructor(
    readonly text: string,
    readonly found: 'array' | 'missing' | 'other',
    /** Where the array is: `[` at `arrayStart`, `]` at `arrayEnd - 1` (both -1 unless found is 'array'). */
    readonly arrayStart: number,
    readonly arrayEnd: number,
    readonly fields: readonly string[],
    spans: number[],
    multiline: Set<number> | undefined,
  ) {
    this.spans = spans;
    this.stride = 2 + 2 * fields.length;
    this.multiline = multiline;
  }

  get length(): number {
    return this.spans.length / this.stride;
  }

  start(i: number): number {
    return this.spans[i * this.stride]!;
  }

  end(i: number): number {
    return this.spans[i * this.stride + 1]!;
  }

  /** Whether element `i` is an object (`{…}`). */
  isObject(i: number): boolean {
    return this.text.charCodeAt(this.start(i)) === OPEN_OBJECT;
  }

  /**
   * Element `i` as one line of JSON: the vendor's text as it is, or, when it holds line breaks between tokens
   * (a pretty-printed page), that text without the whitespace between tokens (strings untouched).
   */
  elementText(i: number): string {
    const text = this.text.slice(this.start(i), this.end(i));
    return this.multiline?.has(i) ? compactJson(text) : text;
  }

  /** The text of the value of requested field `f` (an index into `fields`) in element `i`, or undefined. */
  fieldText(i: number, f: number): string | undefined {
    const at = i * this.stride + 2 + 2 * f;
    const start = this.spans[at]!;
    return start < 0 ? undefined : this.text.slice(start, Math.abs(this.spans[at + 1]!));
  }

  /**
   * The value of requested field `f` in element `i` when it is a string without escapes (its text between the
   * quotes is its value), as a slice of the page: no parse, no copy. Undefined for anything else (absent,
   * another type, a string with escapes). The slice may share the page's memory: for immediate use only.
   */
  plainString(i: number, f: number): string | undefined {
    const at = i * this.stride + 2 + 2 * f;
    const start = this.spans[at]!;
    const end = this.spans[at + 1]!;
    // end < 0: a string with escapes (see PageScanner.record).
    if (start < 0 || end < 0 || this.text.charCodeAt(start) !== QUOTE) return undefined;
    return this.text.slice(start + 1, end - 1);
  }

  /** The value of requested field `f` in element `i`, as `JSON.parse` would give it (undefined when absent). */
  fieldValue(i: number, f: number): unknown {
    const at = i * this.stride + 2 + 2 * f;
    const start = this.spans[at]!;
    if (start < 0) return undefined;
    const end = this.spans[at + 1]!;
    // Parsed even when a plain string: a slice of the page would point into it (V8 slices strings of 13 or more
    // characters), and a dedup key waits with its batch until acknowledged, so it would keep whole pages alive.
    return JSON.parse(this.text.slice(start, Math.abs(end))) as unknown;
  }

  /**
   * The page without its records: `JSON.parse` of the text with the array emptied (`"items":[]`), for the
   * envelope's own fields (paging tokens, status codes). The whole text when there was no array.
   */
  envelope<T = unknown>(): T {
    if (this.found !== 'array') return JSON.parse(this.text) as T;
    return JSON.parse(`${this.text.slice(0, this.arrayStart + 1)}${this.text.slice(this.arrayEnd - 1)}`) as T;
  }
}

/** `a.b` → ['a', 'b']; '' (or []) is the text itself (a page that is a bare array). */
function pathKeys(path: string | readonly string[]): readonly string[] {
  if (typeof path !== 'string') return path;
  return path === '' ? [] : path.split('.');
}

/** The walk of one page to the array at its path: a Cursor that records the elements' and fields' spans. */
class PageScanner extends Cursor {
  /** Per element: start, end, then the start and end of each field's value (-1: absent). */
  spans: number[] = [];
  multiline: Set<number> | undefined;
  found: 'array' | 'missing' | 'other' = 'missing';
  arrayStart = -1;
  arrayEnd = -1;
  private readonly fieldLengths: number[];
  /** 1 at the index of each field's length: a key of any other length (and no escape) is none of them. */
  private readonly isFieldLength: Uint8Array;

  constructor(
    text: string,
    private readonly keys: readonly string[],
    private readonly fields: readonly string[],
  ) {
    super(text);
    this.fieldLengths = fields.map((f) => f.length);
    this.isFieldLength = new Uint8Array(Math.max(0, ...this.fieldLengths) + 1);
    for (const length of this.fieldLengths) this.isFieldLength[length] = 1;
  }

  /** At a value at `level` of the path: descends when it may hold the array, else skips it. */
  walk(level: number): void {
    const c = this.text.charCodeAt(this.pos);
    if (level === this.keys.length) {
      if (c === OPEN_ARRAY) this.elements();
      else {
        this.value(level);
        this.found = 'other';
      }
      return;
    }
    if (c !== OPEN_OBJECT) return this.value(level);
    this.pos++;
    let next = this.space();
    if (next === CLOSE_OBJECT) {
      this.pos++;
      return;
    }
    for (;;) {
      if (next !== QUOTE) this.fail(this.pos >= this.end ? 'unexpected end' : 'a key (a string) was expected');
      const keyStart = this.pos;
      this.string();
      const onPath = this.keyIs(keyStart, this.keys[level]!);
      if (this.space() !== COLON) this.fail(this.pos >= this.end ? 'unexpected end' : "':' was expected after a key");
      this.pos++;
      this.space();
      if (onPath) {
        // A later duplicate of the key wins, as in JSON.parse: forget what an earlier one found.
        this.found = 'missing';
        this.spans = [];
        this.multiline = undefined;
        this.arrayStart = this.arrayEnd = -1;
        this.walk(level + 1);
      } else this.value(level + 1);
      next = this.space();
      if (next === COMMA) {
        this.pos++;
        next = this.space();
      } else if (next === CLOSE_OBJECT) {
        this.pos++;
        return;
      } else this.fail(this.pos >= this.end ? 'unexpected end' : "',' or '}' was expected");
    }
  }

  /** At `[` of the target array: records every element. */
  private elements(): void {
    this.found = 'array';
    this.arrayStart = this.pos;
    const spans = this.spans;
    const fieldCount = this.fields.length;
    this.pos++;
    let c = this.space();
    if (c !== CLOSE_ARRAY) {
      for (let index = 0; ; index++) {
        const at = spans.length;
        spans.push(this.pos, 0);
        for (let f = 0; f < fieldCount; f++) spans.push(-1, -1);
        this.sawBreak = false;
        if (c === OPEN_OBJECT && fieldCount > 0) this.record(at);
        else this.value(1);
        spans[at + 1] = this.pos;
        if (this.sawBreak) (this.multiline ??= new Set()).add(index);
        c = this.space();
        if (c === COMMA) {
          this.pos++;
          c = this.space();
        } else if (c === CLOSE_ARRAY) break;
        else this.fail(this.pos >= this.end ? 'unexpected end' : "',' or ']' was expected");
      }
    }
    this.pos++;
    this.arrayEnd = this.pos;
  }

  /** An element that is an object: its top-level keys are compared with the fields. */
  private record(at: number): void {
    const text = this.text;
    const spans = this.spans;
    const fields = this.fields;
    const fieldLengths = this.fieldLengths;
    const isFieldLength = this.isFieldLength;
    const fieldCount = fields.length;
    this.pos++;
    let c = this.space();
    if (c === CLOSE_OBJECT) {
      this.pos++;
      return;
    }
    for (;;) {
      if (c !== QUOTE) this.fail(this.pos >= this.end ? 'unexpected end' : 'a key (a string) was expected');
      const keyStart = this.pos;
      this.string();
      // Most keys differ from every field in length: one look-up each.
      const keyLength = this.pos - keyStart - 2;
      let field = -1;
      if (isFieldLength[keyLength] === 1 || this.escaped) for (let f = 0; f < fieldCount; f++) {
        if ((fieldLengths[f] === keyLength || this.escaped) && this.keyIs(keyStart, fields[f]!)) {
          field = f;
          break;
        }
      }
      if (this.space() !== COLON) this.fail(this.pos >= this.end ? 'unexpected end' : "':' was expected after a key");
      this.pos++;
      this.space();
      const valueStart = this.pos;
      this.value(2);
      if (field >= 0) {
        spans[at + 2 + 2 * field] = valueStart;
        // Negative: a string with escapes, whose text is not its value.
        spans[at + 3 + 2 * field] = text.charCodeAt(valueStart) === QUOTE && this.escaped ? -this.pos : this.pos;
      }
      c = this.space();
      if (c === COMMA) {
        this.pos++;
        c = this.space();
      } else if (c === CLOSE_OBJECT) {
        this.pos++;
        return;
      } else this.fail(this.pos >= this.end ? 'unexpected end' : "',' or '}' was expected");
    }
  }
}

/**
 * Scans `text` (a whole JSON document) for the array at `path` (`'data.items'`, `'value'`, `''` for a
 * top-level array; an array of keys when a key holds a dot) and returns its elements' spans, plus the value
 * spans of the top-level `fields` of each element that is an object. Throws JsonSyntaxError when the text
 * is not valid JSON. As `JSON.parse`, a key that appears twice counts by its last occurrence.
 */
export function scanJsonArray(text: string, path: string | readonly string[], fields: readonly string[] = []): JsonArrayScan {
  const scanner = new PageScanner(text, pathKeys(path), fields);
  // A byte order mark is not JSON (JSON.parse refuses it too).
  scanner.space();
  if (scanner.pos >= scanner.end) scanner.fail('the text is empty', 0);
  scanner.walk(0);
  scanner.space();
  if (scanner.pos < scanner.end) scanner.fail('text after the end of the JSON value');
  return new JsonArrayScan(text, scanner.found, scanner.arrayStart, scanner.arrayEnd, fields, scanner.spans, scanner.multiline);
}

/**
 * JSON text without the whitespace between tokens, strings untouched: a pretty-printed record as one line.
 * The text must be valid JSON (a span of a scan).
 */
export function compactJson(text: string): string {
  let out = '';
  let from = 0;
  const n = text.length;
  for (let p = 0; p < n; p++) {
    const c = text.charCodeAt(p);
    if (c === QUOTE) {
      // Skip the string: a backslash always escapes the next character.
      for (p++; p < n; p++) {
        const d = text.charCodeAt(p);
        if (d === BACKSLASH) p++;
        else if (d === QUOTE) break;
      }
    } else if (c === SPACE || c === LF || c === CR || c === TAB) {
      out += text.slice(from, p);
      while (p + 1 < n && (text.charCodeAt(p + 1) === SPACE || text.charCodeAt(p + 1) === LF || text.charCodeAt(p + 1) === CR || text.charCodeAt(p + 1) === TAB)) p++;
      from = p + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}
