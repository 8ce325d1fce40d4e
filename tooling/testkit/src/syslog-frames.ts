/**
 * Splits a TLS syslog byte stream into messages as Devo's relay does: RFC 6587 octet counting
 * (`LEN SP MSG`) when a frame starts with a digit, else non-transparent framing ended by LF.
 */
export class SyslogFrameParser {
  private buffer: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the complete messages they finished (without framing). */
  push(chunk: Buffer): string[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const messages: string[] = [];
    for (;;) {
      if (this.buffer.length === 0) break;
      const first = this.buffer[0]!;
      if (first >= 0x30 && first <= 0x39) {
        const space = this.buffer.indexOf(0x20);
        if (space < 0) break;
        const length = Number(this.buffer.subarray(0, space).toString('latin1'));
        if (!Number.isInteger(length)) throw new Error('bad octet count');
        if (this.buffer.length < space + 1 + length) break;
        messages.push(this.buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
        this.buffer = this.buffer.subarray(space + 1 + length);
      } else {
        const lf = this.buffer.indexOf(0x0a);
        if (lf < 0) break;
        messages.push(this.buffer.subarray(0, lf).toString('utf8'));
        this.buffer = this.buffer.subarray(lf + 1);
      }
    }
    return messages;
  }
}
