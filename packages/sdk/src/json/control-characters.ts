/**
 * Whether a text holds a control character (U+0000–U+001F), for the page scanner's fast path
 * (json-array-scan.ts: a page without one has no raw control character in a string and no line break, so
 * closing quotes may be found with `indexOf`). It runs over every page, up to ~10 MB for Darktrace: 32
 * native `includes` passes (one memchr per control character) were 9.2 % of the Darktrace collector's CPU
 * (issue #20), the regular expression `/[\0-\x1f]/` three times that.
 *
 * Here, for a text of a million characters or more (SIMD_FROM): one pass of a small WebAssembly SIMD
 * function over the text's code units, copied 64 Ki characters at a time into a fixed 128 KiB memory (reused
 * by every call and never grown: a 10 MB page does not leave 10 MB of wasm memory behind, and each piece is
 * still in the cache when it is scanned).
 *
 * - A piece is first written one byte per character (`latin1`, each UTF-16 code unit truncated to its low
 *   byte: a copy for a one-byte string) and its bytes compared with 0x20. For a character below U+0100 the
 *   byte is the character, so a control character always gives a byte < 0x20: no false negative. A character
 *   from U+0100 up whose low byte is < 0x20 (U+0100, U+0A0A, U+4E00…) gives a false positive.
 * - So a positive piece is checked again exactly: written as UTF-16 (two bytes per code unit, as they are)
 *   and its 16-bit units compared with 0x20. After one false positive the text is two-byte (CJK text makes
 *   them frequent), so the rest of it is read that way directly.
 *
 * The answer is therefore exactly `/[\0-\x1f]/.test(text)`. Where WebAssembly or its SIMD is missing, the
 * 32 `includes` passes give it.
 */

/*
 * The module (WAT; the bytes below are `wat2wasm --enable-simd` of it, wabt 1.0.37). `bytes(n)`: is any of
 * the n bytes at 0 below 0x20; `units(n)`: any of the n/2 little-endian 16-bit units (the byte order of
 * both wasm and Node's 'utf16le'). Each pads the 64 bytes after n with spaces, then reads 64-byte blocks:
 * the minimum of four 16-byte vectors compared with 0x20.
 *
 * (module
 *   (memory (export "memory") 2)
 *   (func $pad (param $n i32)
 *     (v128.store offset=0 (local.get $n) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32))
 *     (v128.store offset=16 (local.get $n) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32))
 *     (v128.store offset=32 (local.get $n) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32))
 *     (v128.store offset=48 (local.get $n) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32)))
 *   (func (export "bytes") (param $n i32) (result i32)
 *     (local $p i32)
 *     (call $pad (local.get $n))
 *     (block $end
 *       (loop $block
 *         (br_if $end (i32.ge_u (local.get $p) (local.get $n)))
 *         (if (v128.any_true
 *               (i8x16.lt_u
 *                 (i8x16.min_u
 *                   (i8x16.min_u (v128.load offset=0 (local.get $p)) (v128.load offset=16 (local.get $p)))
 *                   (i8x16.min_u (v128.load offset=32 (local.get $p)) (v128.load offset=48 (local.get $p))))
 *                 (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32)))
 *           (then (return (i32.const 1))))
 *         (local.set $p (i32.add (local.get $p) (i32.const 64)))
 *         (br $block)))
 *     (i32.const 0))
 *   (func (export "units") (param $n i32) (result i32)
 *     (local $p i32)
 *     (call $pad (local.get $n))
 *     (block $end
 *       (loop $block
 *         (br_if $end (i32.ge_u (local.get $p) (local.get $n)))
 *         (if (v128.any_true
 *               (i16x8.lt_u
 *                 (i16x8.min_u
 *                   (i16x8.min_u (v128.load offset=0 (local.get $p)) (v128.load offset=16 (local.get $p)))
 *                   (i16x8.min_u (v128.load offset=32 (local.get $p)) (v128.load offset=48 (local.get $p))))
 *                 (v128.const i16x8 32 32 32 32 32 32 32 32)))
 *           (then (return (i32.const 1))))
 *         (local.set $p (i32.add (local.get $p) (i32.const 64)))
 *         (br $block)))
 *     (i32.const 0)))
 */
export const CONTROL_SCAN_WASM =
  'AGFzbQEAAAABCgJgAX8AYAF/AX8DBAMAAQEFAwEAAgcaAwZtZW1vcnkCAAVieXRlcwABBXVuaXRzAAIKnwIDYgAgAP0MICAgICAgICAgICAgICAgIP0LBAAgAP0MICAgICAgICAgICAgICAgIP0LBBAgAP0MICAgICAgICAgICAgICAgIP0LBCAgAP0MICAgICAgICAgICAgICAgIP0LBDALWwEBfyAAEAACQANAIAEgAE8NASAB/QAEACAB/QAEEP13IAH9AAQgIAH9AAQw/Xf9d/0MICAgICAgICAgICAgICAgIP0m/VMEQEEBDwsgAUHAAGohAQwACwtBAAteAQF/IAAQAAJAA0AgASAATw0BIAH9AAQAIAH9AAQQ/ZcBIAH9AAQgIAH9AAQw/ZcB/ZcB/QwgACAAIAAgACAAIAAgACAA/TD9UwRAQQEPCyABQcAAaiEBDAALC0EACw==';

/** Characters a piece: 64 KiB as bytes (one a character), then the 64 bytes of padding: the memory's 2 pages. */
const PIECE = 0x10000;
/** Characters a piece read as UTF-16: the same 64 KiB. */
const HALF = PIECE / 2;

interface Scanner {
  bytes(n: number): number;
  units(n: number): number;
  /** A view of the module's memory (never grown, so never detached). */
  view: Buffer;
}

/** Compiled on first use (a collector that scans no page of SIMD_FROM characters pays nothing); null where it cannot be. */
let scanner: Scanner | null | undefined;

/** The little of the WebAssembly API used here (TypeScript declares it in its DOM library only). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

function load(): Scanner | null {
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    const bytes = Buffer.from(CONTROL_SCAN_WASM, 'base64');
    // false where the engine has no SIMD.
    if (wasm === undefined || !wasm.validate(bytes)) return null;
    const exports = new wasm.Instance(new wasm.Module(bytes)).exports as { memory: { buffer: ArrayBuffer }; bytes(n: number): number; units(n: number): number };
    if (exports.memory.buffer.byteLength < PIECE + 64) return null;
    return { bytes: exports.bytes, units: exports.units, view: Buffer.from(exports.memory.buffer) };
  } catch {
    return null;
  }
}

/** The control characters, line breaks first (a pretty-printed page stops at the first). */
const CONTROLS = ['\n', '\r', '\t', ...Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).filter((c) => c !== '\n' && c !== '\r' && c !== '\t')];

/** Below SIMD_FROM, and without WebAssembly SIMD: one native `includes` (memchr) per control character. */
export function hasControlCharacterByIncludes(text: string): boolean {
  for (const c of CONTROLS) if (text.includes(c)) return true;
  return false;
}

/** Whether `piece` (at most PIECE characters) holds a control character, reading its 16-bit units. */
function unitsHoldControl(s: Scanner, piece: string): boolean {
  for (let from = 0; from < piece.length; from += HALF) {
    const part = piece.length <= HALF ? piece : piece.slice(from, from + HALF);
    if (s.units(s.view.write(part, 0, PIECE, 'utf16le')) !== 0) return true;
  }
  return false;
}

/**
 * Texts shorter than this keep the `includes` passes: loading WebAssembly costs the process 1.3 MiB of
 * resident memory, 2.4 MiB once its code has been used (measured with Node 24, kept after the last page), and
 * a shorter text is read from the cache 32 times at about 0.3 ms per million characters: a Lark page (200
 * records, 133 thousand characters) would save 0.2 CPU s per million events (1 %) for that memory. A
 * Darktrace page (one hour of breaches: 2 million characters at 100 thousand events a run, 20 million at a
 * million) is read from memory 32 times, 1 ms per million characters, and saves 1 to 1.5 CPU s per million.
 */
const SIMD_FROM = 1 << 20;

/** Whether `text` holds a character U+0000–U+001F: exactly `/[\0-\x1f]/.test(text)`. */
export function hasControlCharacter(text: string): boolean {
  return text.length < SIMD_FROM ? hasControlCharacterByIncludes(text) : hasControlCharacterBySimd(text);
}

/** `hasControlCharacter` in one SIMD pass (the `includes` passes where WebAssembly SIMD is missing). */
export function hasControlCharacterBySimd(text: string): boolean {
  const s = scanner === undefined ? (scanner = load()) : scanner;
  if (s === null) return hasControlCharacterByIncludes(text);
  const n = text.length;
  let wide = false;
  // `slice` of a long string is a view of it in V8 (no copy); a concatenated string is flattened by the
  // first slice (or write), as `includes` would.
  for (let from = 0; from < n; from += PIECE) {
    const piece = n <= PIECE ? text : text.slice(from, from + PIECE);
    if (wide) {
      if (unitsHoldControl(s, piece)) return true;
    } else if (s.bytes(s.view.write(piece, 0, PIECE, 'latin1')) !== 0) {
      if (unitsHoldControl(s, piece)) return true;
      wide = true; // a false positive: the text has characters from U+0100 up.
    }
  }
  return false;
}
