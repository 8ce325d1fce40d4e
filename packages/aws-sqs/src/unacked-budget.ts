import { EncodedBatch } from '@collector/sdk';

/**
 * Bounds the events a queue worker has handed to the SDK and that are not acknowledged yet, by their text
 * (characters of strings, bytes of an EncodedBatch), across every message in flight. The SDK's own bounds
 * (its queue, then up to 16 written batches of up to 2 MiB per output) are sized for small events: with
 * CloudTrail's ~1.5 KB records they let about 100 MiB wait in the main thread (the events, their encoded
 * batches and TLS's copies of them). Waiting here before each emit keeps that to about `limit`, whatever
 * the event size.
 */
export class UnackedBudget {
  private used = 0;
  private waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    /** Settles when the worker stops: a waiting emit goes on (and the read ends on the stop). */
    private readonly stopped: Promise<unknown>,
  ) {}

  /** Waits for room; with nothing unacknowledged there is always room, so a batch larger than `limit` passes. */
  async reserve(): Promise<void> {
    while (this.used >= this.limit) {
      const room = new Promise<void>((wake) => this.waiting.push(wake));
      if ((await Promise.race([room, this.stopped])) !== undefined) return;
    }
  }

  /** Counts `events` until `delivered` settles (acknowledged or failed). */
  hold(events: readonly unknown[] | EncodedBatch, delivered: Promise<void>): void {
    const size = events instanceof EncodedBatch ? events.byteLength : textSize(events);
    this.used += size;
    const release = () => {
      this.used -= size;
      for (const wake of this.waiting.splice(0)) wake();
    };
    delivered.then(release, release);
  }
}

/** Characters of text events; an object (a record the processor built) counts as a typical small record. */
function textSize(events: readonly unknown[]): number {
  let size = 0;
  for (const event of events) size += typeof event === 'string' ? event.length : 256;
  return size;
}
