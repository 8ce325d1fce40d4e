import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EncodedBatch } from '@collector/sdk';
import { StreamOutput } from '@collector/sdk/host';
import { exposedGc } from '../src/runtime/exposed-gc.js';

// A runner prepares (frames) its next submission while the last one is written. With submissions of two
// write-sized pieces (Proofpoint's 2000 events of 1.5 KB at 2000 events a batch), four framing buffers of
// 1.1–2.1 MiB were out at once and stayed as spares for the whole pull (docs/benchmarks.md, wave 14).

const TAG = 'my.app.test.ahead';
const EVENTS = 1000;
/** 8 MB a batch: more than the loopback socket buffers take from a peer that does not read. */
const EVENT_BYTES = 8000;

function batch(n: number): { batch: EncodedBatch; messages: string[] } {
  const messages = Array.from({ length: EVENTS }, (_, i) => `${n}:${i}:${'x'.repeat(EVENT_BYTES)}`);
  return { batch: EncodedBatch.from(TAG, messages), messages };
}

/** Array buffers alive after a full collection (the receiver's socket reads are garbage by then). */
function arrayBuffersAlive(): number {
  exposedGc()!({ type: 'major', execution: 'sync' });
  return process.memoryUsage().arrayBuffers;
}

/** A receiver on 127.0.0.1 that keeps what it reads, and an output writing to it over TCP. */
async function receiver() {
  const sockets: Socket[] = [];
  // As text (the messages are ASCII): the reads' buffers must not count as the output's.
  const received: string[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', (d: Buffer) => received.push(d.toString('latin1')));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const output = new StreamOutput('relay_1', 'relay', {
    target: { host: '127.0.0.1', port: (server.address() as AddressInfo).port, connectTimeoutMs: 5_000, sendTimeoutMs: 60_000, settleMs: 1, verifyGraceMs: 0 },
    hostname: 'testhost',
  });
  await output.start();
  /** The messages received so far, once at least `count` arrived (10 s at most). */
  const messages = async (count: number) => {
    const deadline = Date.now() + 10_000;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = received.join('').split('\n').filter((l) => l !== '');
      if (lines.length >= count) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return lines.map((l) => l.slice(l.indexOf(`${TAG}: `) + TAG.length + 2));
  };
  const close = async () => {
    await output.stop();
    for (const s of sockets) s.destroy();
    server.close();
  };
  return { output, sockets, messages, close };
}

describe('StreamOutput: framing buffers', () => {
  it('frees a spare too small for the batch being framed when it makes a bigger one, instead of keeping both', async () => {
    const { output, messages, close } = await receiver();
    try {
      const small = Array.from({ length: 100 }, (_, i) => `small ${i} ${'s'.repeat(10_000)}`);
      await output.writeBatches([EncodedBatch.from(TAG, small)], 'standard');
      // The small batch's framing buffer (1 MB) is a spare now; the big batch needs a bigger one.
      const big = Array.from({ length: 100 }, (_, i) => `big ${i} ${'b'.repeat(30_000)}`);
      const bigBatch = EncodedBatch.from(TAG, big);
      const before = arrayBuffersAlive();
      await output.writeBatches([bigBatch], 'standard');
      // Kept: the big one's buffer (3 MB) only, the 1 MB spare freed when it was made.
      expect(arrayBuffersAlive() - before).toBeLessThan(bigBatch.bytes.length - 500_000);
      expect(await messages(200)).toEqual([...small, ...big]);
    } finally {
      await close();
    }
  });

  it('frames a batch ahead only while fewer than two framing buffers are out; one not framed ahead is framed at its write, every event delivered in order', async () => {
    const { output, sockets, messages, close } = await receiver();
    try {
      const [a, b, c] = [batch(1), batch(2), batch(3)];
      // Nothing out: framed now (a framing buffer of the batch's size).
      let before = process.memoryUsage().arrayBuffers;
      output.prepare(a.batch);
      expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(a.batch.bytes.length);
      // A receiver that reads nothing for now: the two writes stay unflushed.
      for (const s of sockets) s.pause();
      const writes = [output.writeBatches([a.batch], 'standard'), output.writeBatches([b.batch], 'standard')];
      // Two written and unflushed: the third waits for its write to be framed.
      before = process.memoryUsage().arrayBuffers;
      output.prepare(c.batch);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(c.batch.bytes.length / 2);
      for (const s of sockets) s.resume();
      await Promise.all(writes);
      await output.writeBatches([c.batch], 'standard');
      const expected = [a, b, c].flatMap((x) => x.messages);
      expect(await messages(expected.length)).toEqual(expected);
    } finally {
      await close();
    }
  });
});
