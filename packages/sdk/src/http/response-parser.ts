/**
 * An HTTP/1.1 response read incrementally from a connection's bytes (RFC 9112): the status line, the header
 * fields, then the body framed by Content-Length, chunked transfer coding, or the end of the connection.
 * Body bytes are handed on as they arrive (subarrays of the chunks read, never copied); the head and the chunk
 * size lines are the only bytes kept across reads. Informational (1xx) answers are skipped.
 */

/** A malformed response: the connection cannot be trusted further (Node's parser reports `HPE_*` codes too). */
export class ResponseParseError extends Error {
  readonly code = 'HPE_INVALID';
  constructor(message: string) {
    super(`Invalid HTTP response: ${message}`);
    this.name = 'ResponseParseError';
  }
}

/** Larger heads are refused (Node's own limit is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk size line (hex digits and extensions) or a trailer field longer than this is refused. */
const MAX_LINE_BYTES = 8 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
const CR = 13;
const LF = 10;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: |$)/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEX = /^[0-9A-Fa-f]+$/;
const DECIMAL = /^\d+$/;
/**
 * Fields node:http keeps the first of when repeated (its IncomingMessage.headers); others are joined.
 * Content-Length is joined, then must be one value (two different lengths are refused, not picked from).
 */
const SINGLE = new Set(['age', 'authorization', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
  Done,
}

export class ResponseParser {
  status = 0;
  /** Lower-case names; repeated fields joined with ", " (the first kept of those node:http keeps one of). */
  headers: Record<string, string> = {};
  /** Whether the connection may carry another request once this response is complete. */
  keepAlive = true;
  /** The body's length when the head announced it (Content-Length framing), known before its first byte. */
  bodyLength: number | undefined;
  private state = State.Head;
  /** Bytes of an unfinished head or line, kept across reads. */
  private partial: Buffer | undefined;
  /** Body bytes left (Content-Length) or bytes left of the current chunk. */
  private remaining = 0;

  /**
   * `onBody` gets each piece of the body as it is read. `bodiless`: the answer to a HEAD request, which has no
   * body whatever its Content-Length or Transfer-Encoding say (RFC 9112 §6.3).
   */
  constructor(
    private readonly onBody: (bytes: Buffer) => void,
    private readonly bodiless = false,
  ) {}

  get complete(): boolean {
    return this.state === State.Done;
  }

  /**
   * Reads `data`; true once the response is complete. Bytes after the end of the response (a server that
   * answers more than it was asked) make the connection unusable: `keepAlive` turns false.
   */
  push(data: Buffer): boolean {
    let at = 0;
    while (at < data.length) {
      switch (this.state) {
        case State.Head: {
          const end = this.headEnd(data, at);
          if (end < 0) return false;
          at = end;
          break;
        }
        case State.Length: {
          const take = Math.min(this.remaining, data.length - at);
          this.onBody(at === 0 && take === data.length ? data : data.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = State.Done;
          break;
        }
        case State.UntilClose:
          this.onBody(at === 0 ? data : data.subarray(at));
          return false;
        case State.ChunkSize: {
          const line = this.line(data, at);
          if (!line) return false;
          at = line.next;
          const size = line.text.split(';', 1)[0]!.trim();
          if (!HEX.test(size) || size.length > 12) throw new ResponseParseError(`bad chunk size "${line.text.slice(0, 40)}"`);
          this.remaining = parseInt(size, 16);
          this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, data.length - at);
          this.onBody(data.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = State.ChunkEnd;
          break;
        }
        case State.ChunkEnd: {
          const line = this.line(data, at);
          if (!line) return false;
          if (line.text !== '') throw new ResponseParseError('chunk data longer than its size');
          at = line.next;
          this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const line = this.line(data, at);
          if (!line) return false;
          at = line.next;
          // Trailer fields are read past, not used; the empty line ends the message.
          if (line.text === '') this.state = State.Done;
          break;
        }
        case State.Done:
          this.keepAlive = false;
          return true;
      }
    }
    return this.state === State.Done;
  }

  /** The connection ended: true when that is how this response's body ends (neither length nor chunked). */
  end(): boolean {
    if (this.state === State.UntilClose) this.state = State.Done;
    return this.state === State.Done;
  }

  /** Reads up to the end of the head; the index after it, or -1 when more bytes are needed. */
  private headEnd(data: Buffer, at: number): number {
    let bytes = at === 0 ? data : data.subarray(at);
    let from = 0;
    if (this.partial) {
      // The end marker may straddle the two reads: search from just before the join.
      from = Math.max(0, this.partial.length - 3);
      bytes = Buffer.concat([this.partial, bytes]);
    }
    const end = bytes.indexOf(HEAD_END, from);
    if (end < 0) {
      if (bytes.length > MAX_HEAD_BYTES) throw new ResponseParseError(`head longer than ${MAX_HEAD_BYTES} bytes`);
      this.partial = this.partial ? bytes : Buffer.from(bytes);
      return -1;
    }
    const consumedBefore = this.partial?.length ?? 0;
    this.partial = undefined;
    this.readHead(bytes.toString('latin1', 0, end));
    return at + end + 4 - consumedBefore;
  }

  private readHead(head: string): void {
    const lines = head.split('\r\n');
    const status = STATUS_LINE.exec(lines[0]!);
    if (!status) throw new ResponseParseError(`bad status line "${lines[0]!.slice(0, 60)}"`);
    const code = Number(status[2]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) throw new ResponseParseError(`bad header line "${line.slice(0, 60)}"`);
      const key = name.toLowerCase();
      const value = line.slice(colon + 1).trim();
      const before = headers[key];
      if (before === undefined) headers[key] = value;
      else if (!SINGLE.has(key)) headers[key] = `${before}, ${value}`;
    }
    // 100 Continue, 103 Early Hints: the real answer follows on the same connection. 101 was never asked for.
    if (code >= 100 && code < 200) {
      if (code === 101) throw new ResponseParseError('unexpected 101 Switching Protocols');
      return;
    }
    this.status = code;
    this.headers = headers;
    const connection = headers['connection']?.toLowerCase() ?? '';
    this.keepAlive = status[1] === '1' ? !/(^|,)\s*close\s*(,|$)/.test(connection) : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
    this.frame(code, headers);
  }

  /** How the body is delimited (RFC 9112 §6.3). */
  private frame(code: number, headers: Record<string, string>): void {
    if (this.bodiless || code === 204 || code === 304) {
      this.state = State.Done;
      return;
    }
    const coding = headers['transfer-encoding'];
    if (coding !== undefined) {
      if (/(^|,)\s*chunked\s*$/i.test(coding)) this.state = State.ChunkSize;
      else this.untilClose();
      return;
    }
    const length = headers['content-length'];
    if (length !== undefined) {
      const values = new Set(length.split(',').map((v) => v.trim()));
      const [only] = values;
      if (values.size !== 1 || !DECIMAL.test(only!) || only!.length > 15) throw new ResponseParseError(`bad Content-Length "${length.slice(0, 40)}"`);
      headers['content-length'] = only!;
      this.remaining = Number(only);
      this.bodyLength = this.remaining;
      this.state = this.remaining === 0 ? State.Done : State.Length;
      return;
    }
    this.untilClose();
  }

  private untilClose(): void {
    this.state = State.UntilClose;
    this.keepAlive = false;
  }

  /** One CRLF-terminated line from `at` (joined with what an earlier read left), or undefined for more bytes. */
  private line(data: Buffer, at: number): { text: string; next: number } | undefined {
    const lf = data.indexOf(LF, at);
    if (lf < 0) {
      const rest = data.subarray(at);
      this.partial = this.partial ? Buffer.concat([this.partial, rest]) : Buffer.from(rest);
      if (this.partial.length > MAX_LINE_BYTES) throw new ResponseParseError(`line longer than ${MAX_LINE_BYTES} bytes`);
      return undefined;
    }
    let bytes = data.subarray(at, lf + 1);
    if (this.partial) {
      bytes = Buffer.concat([this.partial, bytes]);
      this.partial = undefined;
    }
    if (bytes.length < 2 || bytes[bytes.length - 2] !== CR) throw new ResponseParseError('a line not ended by CRLF');
    return { text: bytes.toString('latin1', 0, bytes.length - 2), next: lf + 1 };
  }
}
