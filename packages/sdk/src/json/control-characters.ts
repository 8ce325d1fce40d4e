/**
 * Whether a text holds a control character (U+0000–U+001F), for the page scanner's fast path
 * (json-array-scan.ts: a page without one has no raw control character in a string and no line break, so
 * closing quotes may be found with `indexOf`). It runs over every page, up to ~10 MB for Darktrace: 32
 * native `includes` passes (one memchr per control character) were 9.2 % of the Darktrace collector's CPU
 * (issue #20), the regular expression `/[\0-\x1f]/` three times that.
 *
 * Here, for a text of a million characters or more (WORDS_FROM): one pass over the text's code units, copied
 * 64 Ki characters at a time into a fixed 64 KiB buffer (reused by every call: a 10 MB page leaves nothing
 * behind, and each piece is still in the cache when it is read) and read as 32-bit words, four at a time.
 *
 * - A piece is first written one byte per character (`latin1`, each UTF-16 code unit truncated to its low
 *   byte: a copy for a one-byte string) and its bytes compared with 0x20. For a character below U+0100 the
 *   byte is the character, so a control character always gives a byte < 0x20: no false negative. A character
 *   from U+0100 up whose low byte is < 0x20 (U+0100, U+0A0A, U+4E00…) gives a false positive.
 * - So a positive piece is checked again exactly: written as UTF-16 (two bytes per code unit, as they are)
 *   and its 16-bit units compared with 0x20. After one false positive the text is two-byte (CJK text makes
 *   them frequent), so the rest of it is read that way directly.
 * - A word holds a lane (byte or 16-bit unit) below 0x20 exactly when `(w - 0x20…20) & ~w & 0x80…80` is not
 *   zero (a lane below 0x20 borrows into its top bit; a lane with its top bit set is masked by `~w`; a borrow
 *   out of a lane only follows a lane that already answered).
 *
 * The answer is therefore exactly `/[\0-\x1f]/.test(text)`.
 *
 * Until 2026-12 this pass was a WebAssembly SIMD function. It was ~0.1 ms per million characters faster, but
 * using it paged in V8's WebAssembly decoder and compilers: 1.6 MiB more of the `node` executable resident in
 * every idle Darktrace and Proofpoint daemon (whose pages reach WORDS_FROM), against an idle target of 70 MiB.
 */

/** Characters a piece: 64 KiB as bytes (one a character); the buffer has 16 bytes of padding after it. */
const PIECE = 0x10000;
/** Characters a piece read as UTF-16: the same 64 KiB. */
const HALF = PIECE / 2;
/** A lane below 0x20 sets its top bit in `w - BELOW`, for bytes and for 16-bit units. */
const BYTES_BELOW = 0x20202020;
const BYTES_TOP = 0x80808080 | 0;
const UNITS_BELOW = 0x00200020;
const UNITS_TOP = 0x80008000 | 0;

/** The piece's bytes, then 16 bytes of padding (its own ArrayBuffer: `Buffer.alloc` never uses the pool, so aligned). */
let view: Buffer | undefined;
let words: Int32Array;

/** Whether the first `n` bytes of `view` hold a lane below 0x20 (`below`/`top`: bytes or 16-bit units). */
function lanesBelowSpace(n: number, below: number, top: number): boolean {
  // Spaces after the piece, up to the next 16 bytes: the loop reads whole groups of four words.
  view!.fill(0x20, n, n + 16);
  const end = ((n + 15) >> 4) << 2;
  for (let i = 0; i < end; i += 4) {
    const a = words[i]!;
    const b = words[i + 1]!;
    const c = words[i + 2]!;
    const d = words[i + 3]!;
    if ((((a - below) & ~a) | ((b - below) & ~b) | ((c - below) & ~c) | ((d - below) & ~d)) & top) return true;
  }
  return false;
}

/** The control characters, line breaks first (a pretty-printed page stops at the first). */
const CONTROLS = ['\n', '\r', '\t', ...Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).filter((c) => c !== '\n' && c !== '\r' && c !== '\t')];

/** Below WORDS_FROM: one native `includes` (memchr) per control character. */
export function hasControlCharacterByIncludes(text: string): boolean {
  for (const c of CONTROLS) if (text.includes(c)) return true;
  return false;
}

/** Whether `piece` (at most PIECE characters) holds a control character, reading its 16-bit units. */
function unitsHoldControl(piece: string): boolean {
  for (let from = 0; from < piece.length; from += HALF) {
    const part = piece.length <= HALF ? piece : piece.slice(from, from + HALF);
    if (lanesBelowSpace(view!.write(part, 0, PIECE, 'utf16le'), UNITS_BELOW, UNITS_TOP)) return true;
  }
  return false;
}

/**
 * Texts shorter than this keep the `includes` passes, read from the cache 32 times at about 0.3 ms per million
 * characters (a Lark page: 200 records, 133 thousand characters). A Darktrace page (one hour of breaches: 2
 * million characters at 100 thousand events a run, 20 million at a million) is read from memory 32 times,
 * 1 ms per million characters: one pass saves 1 to 1.5 CPU s per million events.
 */
const WORDS_FROM = 1 << 20;

/** Whether `text` holds a character U+0000–U+001F: exactly `/[\0-\x1f]/.test(text)`. */
export function hasControlCharacter(text: string): boolean {
  return text.length < WORDS_FROM ? hasControlCharacterByIncludes(text) : hasControlCharacterByWords(text);
}

/** `hasControlCharacter` in one pass of 32-bit words over 64 KiB copies of the text. */
export function hasControlCharacterByWords(text: string): boolean {
  if (view === undefined) {
    view = Buffer.alloc(PIECE + 16);
    words = new Int32Array(view.buffer, view.byteOffset, view.length >> 2);
  }
  const n = text.length;
  let wide = false;
  // `slice` of a long string is a view of it in V8 (no copy); a concatenated string is flattened by the
  // first slice (or write), as `includes` would.
  for (let from = 0; from < n; from += PIECE) {
    const piece = n <= PIECE ? text : text.slice(from, from + PIECE);
    if (wide) {
      if (unitsHoldControl(piece)) return true;
    } else if (lanesBelowSpace(view.write(piece, 0, PIECE, 'latin1'), BYTES_BELOW, BYTES_TOP)) {
      if (unitsHoldControl(piece)) return true;
      wide = true; // a false positive: the text has characters from U+0100 up.
    }
  }
  return false;
}
