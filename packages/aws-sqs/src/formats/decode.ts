import { isUtf8 } from 'node:buffer';

/**
 * Bytes to text: UTF-8, or Latin-1 when the bytes are not valid UTF-8 (the Python collector's fallback for
 * "'utf-8' codec can't decode byte 0xa9"). Latin-1 maps every byte, so nothing is dropped or replaced.
 */
export function decodeText(bytes: Buffer, start = 0, end = bytes.length): string {
  const text = bytes.toString('utf8', start, end);
  // U+FFFD appears only if decoding replaced something, or the text really contains it: isUtf8 decides.
  if (text.indexOf('\uFFFD') !== -1 && !isUtf8(bytes.subarray(start, end))) return bytes.toString('latin1', start, end);
  return text;
}
