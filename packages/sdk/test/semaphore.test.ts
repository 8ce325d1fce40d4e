import { describe, expect, it } from 'vitest';
import { Semaphore } from '../src/http/semaphore.js';

describe('Semaphore', () => {
  it('lets at most `limit` callers in at once, the others in arrival order', async () => {
    const semaphore = new Semaphore(2);
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, () => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    });
    const runs = gates.map((gate, i) =>
      semaphore.run(async () => {
        order.push(i);
        most = Math.max(most, ++inside);
        await gate.promise;
        inside--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([0, 1]);
    for (const gate of gates) {
      gate.resolve();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it('a failing caller frees its slot and its error reaches only that caller', async () => {
    const semaphore = new Semaphore(1);
    const failed = semaphore.run(async () => {
      throw new Error('boom');
    });
    const next = semaphore.run(async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });

  it('refuses a limit below 1', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
