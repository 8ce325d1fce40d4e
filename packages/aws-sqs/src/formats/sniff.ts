import type { ObjectDecoder } from './decoders.js';

/**
 * Picks the decoder by the first non-blank byte where a format comes in two shapes (text rows, or the
 * same rows inside CloudWatch Logs documents delivered by Firehose).
 */
export class SniffingDecoder implements ObjectDecoder {
  private inner: ObjectDecoder | undefined;
  private seen = 0;
  constructor(private readonly choose: (firstByte: number) => ObjectDecoder) {}
  push(chunk: Buffer): void {
    if (!this.inner) {
      let i = 0;
      for (; i < chunk.length; i++, this.seen++) {
        const b = chunk[i]!;
        const bom = this.seen < 3 && b === [0xef, 0xbb, 0xbf][this.seen];
        if (!bom && b !== 32 && b !== 10 && b !== 13 && b !== 9) break;
      }
      if (i === chunk.length) return; // only blanks (or a byte order mark) so far: nothing to decide on, nothing to send
      this.inner = this.choose(chunk[i]!);
      chunk = chunk.subarray(i);
    }
    this.inner.push(chunk);
  }
  end(): void {
    this.inner?.end();
  }
}
