import { describe, expect, it } from 'vitest';
import { EncodedBatch } from '@collector/sdk';
import { EncodedQueue, type QueuedBatch } from '../src/runtime/encoded-queue.js';
import { EventEncoder } from '../src/runtime/event-encoding.js';

// The runner's queue: events encoded as UTF-8 into the buffer of the batch they will be submitted in.

const encoder = new EventEncoder('1700000000123');

/** What a batch holds, decoded: [tag, message] per event, in order. */
function decoded(batch: QueuedBatch): [string, string][] {
  const parts = batch.submission instanceof EncodedBatch ? [batch.submission] : batch.submission;
  return parts.flatMap((p) => p.records().map((r): [string, string] => [r.tag, r.message]));
}

/** Records every Buffer.allocUnsafeSlow (the queue's batch buffers) until restore(). */
function recordSlowAllocations(): { allocated: Buffer[]; restore: () => void } {
  const allocated: Buffer[] = [];
  const allocUnsafeSlow = Buffer.allocUnsafeSlow;
  Buffer.allocUnsafeSlow = (size: number) => {
    const b = allocUnsafeSlow(size);
    allocated.push(b);
    return b;
  };
  return { allocated, restore: () => void (Buffer.allocUnsafeSlow = allocUnsafeSlow) };
}

function cutAll(queue: EncodedQueue): QueuedBatch[] {
  const out: QueuedBatch[] = [];
  for (let b = queue.cut(); b; b = queue.cut()) out.push(b);
  return out;
}

describe('EncodedQueue', () => {
  it('cuts batches of at most the batch size, in order, each message as encode() makes it, with the keys of its events', () => {
    const queue = new EncodedQueue(1000, 4 * 1024 * 1024);
    const events = Array.from({ length: 2500 }, (_, i) => ({ id: `e${i}`, text: i % 7 === 0 ? 'é ✓ 😀' : 'x'.repeat(i % 300) }));
    for (const e of events) queue.push('my.app.a', e, e.id, encoder);
    expect(queue.length).toBe(2500);
    expect(queue.full).toBe(true);
    expect(queue.wholeBatches).toBe(2); // the third, of 500 events, is still being filled
    const batches = cutAll(queue);
    expect(batches.map((b) => b.count)).toEqual([1000, 1000, 500]);
    expect(queue.length).toBe(0);
    expect(batches.flatMap(decoded)).toEqual(events.map((e) => ['my.app.a', encoder.encode(e)]));
    expect(batches.flatMap((b) => b.keys)).toEqual(events.map((e) => e.id));
    for (const b of batches) expect(b.byteLength).toBe(decoded(b).reduce((n, [, m]) => n + Buffer.byteLength(m), 0));
  });

  it('submits the events of several tags as one EncodedBatch per run of one tag, sharing one buffer', () => {
    const queue = new EncodedQueue(1000, 4 * 1024 * 1024);
    const tags = ['my.app.a', 'my.app.b', 'my.app.a'];
    const pushed: [string, string][] = [];
    for (const [run, tag] of tags.entries()) {
      for (let i = 0; i < 400; i++) {
        queue.push(tag, { run, i }, undefined, encoder);
        pushed.push([tag, encoder.encode({ run, i })]);
      }
    }
    const [first, second] = cutAll(queue);
    const parts = first!.submission as readonly EncodedBatch[];
    expect(parts.map((p) => [p.tag, p.length])).toEqual([
      ['my.app.a', 400],
      ['my.app.b', 400],
      ['my.app.a', 200],
    ]);
    expect(new Set(parts.map((p) => p.bytes)).size).toBe(1);
    expect(second!.submission).toBeInstanceOf(EncodedBatch);
    expect([...decoded(first!), ...decoded(second!)]).toEqual(pushed);
    expect(first!.keys).toEqual([]);
  });

  it('grows a batch past its first buffer without losing what was written, and cuts at the byte bound too', () => {
    const queue = new EncodedQueue(1000, 1024 * 1024);
    const big = Array.from({ length: 12 }, (_, i) => ({ i, blob: String.fromCharCode(97 + i).repeat(200_000) }));
    for (const e of big) queue.push('my.app.big', e, undefined, encoder);
    // 200 kB a message: a batch is full once it holds 1 MiB or more, whole by its bytes with 6 events.
    expect(queue.wholeBatches).toBe(2);
    const batches = cutAll(queue);
    expect(batches.map((b) => b.count)).toEqual([6, 6]);
    expect(batches.flatMap(decoded).map(([, m]) => m)).toEqual(big.map((e) => encoder.encode(e)));
  });

  it('leaves nothing of an event whose encoding throws', () => {
    const queue = new EncodedQueue(1000, 4 * 1024 * 1024);
    queue.push('my.app.a', { ok: 1 }, 'k1', encoder);
    expect(() => queue.push('my.app.b', { bad: 1n }, 'k2', encoder)).toThrow(TypeError);
    queue.push('my.app.a', { ok: 2 }, 'k3', encoder);
    const [batch] = cutAll(queue);
    expect(decoded(batch!)).toEqual([
      ['my.app.a', encoder.encode({ ok: 1 })],
      ['my.app.a', encoder.encode({ ok: 2 })],
    ]);
    expect(batch!.submission).toBeInstanceOf(EncodedBatch);
    expect(batch!.keys).toEqual(['k1', 'k3']);
  });

  it('reuses the buffer of a released batch only: a batch not acknowledged yet keeps its bytes', () => {
    const queue = new EncodedQueue(100, 4 * 1024 * 1024);
    const fill = (round: number) => {
      for (let i = 0; i < 100; i++) queue.push('my.app.a', { round, i }, undefined, encoder);
      return queue.cut()!;
    };
    const expected = (round: number) => Array.from({ length: 100 }, (_, i): [string, string] => ['my.app.a', encoder.encode({ round, i })]);
    const first = fill(1);
    const second = fill(2);
    const firstBytes = (first.submission as EncodedBatch).bytes;
    first.release();
    const third = fill(3);
    expect((third.submission as EncodedBatch).bytes).toBe(firstBytes);
    expect(decoded(second)).toEqual(expected(2));
    expect(decoded(third)).toEqual(expected(3));
    // After dropSpares() (between pulls) nothing is reused.
    second.release();
    queue.dropSpares();
    const fourth = fill(4);
    expect((fourth.submission as EncodedBatch).bytes).not.toBe((second.submission as EncodedBatch).bytes);
    expect(decoded(third)).toEqual(expected(3));
  });

  // A dropped or outgrown batch buffer is a mapping of its own whose small JS owner is soon promoted: left to
  // the garbage collector it stayed resident until a mark-compact (Proofpoint's peak, docs/benchmarks.md wave 11).
  it('gives the memory of outgrown buffers and dropped spares back at once, not at a garbage collection', () => {
    const queue = new EncodedQueue(1000, 4 * 1024 * 1024);
    const event = (i: number) => ({ i, text: 'x'.repeat(1500) });
    const { allocated, restore } = recordSlowAllocations();
    let batch: QueuedBatch;
    try {
      for (let i = 0; i < 1000; i++) queue.push('my.app.a', event(i), undefined, encoder);
      batch = queue.cut()!;
    } finally {
      restore();
    }
    // A batch of 1.5 KB events grows once, from its first buffer to about its whole size, and the first is freed.
    expect(allocated).toHaveLength(2);
    expect(allocated[0]!.buffer.byteLength).toBe(0);
    const bytes = (batch.submission as EncodedBatch).bytes;
    expect(bytes.buffer).toBe(allocated[1]!.buffer);
    expect(bytes.buffer.byteLength).toBeGreaterThanOrEqual(batch.byteLength);
    expect(bytes.buffer.byteLength).toBeLessThan(batch.byteLength * 1.3);
    expect(decoded(batch)).toEqual(Array.from({ length: 1000 }, (_, i) => ['my.app.a', encoder.encode(event(i))]));
    // Released, it waits as a spare; dropped between pulls, its memory is freed at once.
    batch.release();
    const before = process.memoryUsage().arrayBuffers;
    queue.dropSpares();
    expect(bytes.buffer.byteLength).toBe(0);
    expect(before - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(batch.byteLength);
  });

  it('frees a released buffer it does not keep as a spare (more released than it keeps)', () => {
    const queue = new EncodedQueue(10, 4 * 1024 * 1024);
    const batches = Array.from({ length: 6 }, (_, round) => {
      for (let i = 0; i < 10; i++) queue.push('my.app.a', { round, i }, undefined, encoder);
      return queue.cut()!;
    });
    const buffers = batches.map((b) => (b.submission as EncodedBatch).bytes.buffer);
    for (const b of batches) b.release();
    // Four spares kept, the two others freed; the next batch reuses a kept one.
    expect(buffers.filter((b) => b.byteLength === 0)).toHaveLength(2);
    for (let i = 0; i < 10; i++) queue.push('my.app.a', { round: 7, i }, undefined, encoder);
    const next = queue.cut()!;
    expect(buffers).toContain((next.submission as EncodedBatch).bytes.buffer);
    expect(decoded(next)).toEqual(Array.from({ length: 10 }, (_, i) => ['my.app.a', encoder.encode({ round: 7, i })]));
    queue.dropSpares();
  });

  // Proofpoint at 2000 events a batch: the first batch's buffer (grown to its estimate) was 3.25 MiB and every
  // later batch asked for 3.31 (its size + 1/8), so the first spares were never taken again and stayed resident
  // beside new buffers for the whole pull: five buffers of 3.3 MiB where three were in use (docs/benchmarks.md,
  // wave 14).
  it('takes a spare a little smaller than the next batch asks for rather than a new buffer beside it: the buffers never outnumber the batches in use', () => {
    const queue = new EncodedQueue(100, 4 * 1024 * 1024);
    queue.dropSpares();
    const { allocated, restore } = recordSlowAllocations();
    try {
      const waiting: QueuedBatch[] = [];
      const sent: { batch: QueuedBatch; events: object[] }[] = [];
      for (let round = 0; round < 24; round++) {
        // Each batch a little bigger than the one before: 3 % more per event.
        const text = 'x'.repeat(Math.round(3000 * 1.03 ** round));
        const events = Array.from({ length: 100 }, (_, i) => ({ round, i, text }));
        for (const e of events) queue.push('my.app.a', e, undefined, encoder);
        const batch = queue.cut()!;
        sent.push({ batch, events });
        waiting.push(batch);
        // Two batches wait for their acknowledgement at a time (one written, one framed ahead), as in a pull.
        if (waiting.length > 2) waiting.shift()!.release();
        // Each one holds its own events whole until released, whichever buffer it reused.
        for (const { batch: b, events: e } of sent.slice(-2)) expect(decoded(b)).toEqual(e.map((x) => ['my.app.a', encoder.encode(x)]));
      }
      // The two waiting and the one their predecessor left: three buffers resident, whatever the sizes did.
      expect(allocated.filter((b) => b.buffer.byteLength > 0).length).toBeLessThanOrEqual(3);
    } finally {
      restore();
      queue.dropSpares();
    }
  });
});
