/**
 * The largest single record (a line, or a JSON record) the decoders hold. Objects are streamed, but one
 * record has to be held whole to become an event: without a bound, a small gzip object inflating to one
 * gigabyte-long line (a gzip bomb, or a corrupt object) would exhaust memory. A record over the bound makes
 * the object unreadable (PullError 311): the message is retried, then left to the dead-letter queue.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export class RecordTooLargeError extends Error {
  constructor(
    readonly offset: number,
    readonly limit: number,
  ) {
    super(`a record larger than ${limit} bytes starts before byte ${offset} (gzip bomb or corrupt object?)`);
    this.name = 'RecordTooLargeError';
  }
}
