import { describe, expect, it } from 'vitest';
import { DeliveryPipeline, OutputError, type Output } from '@collector/sdk/host';

/**
 * How long an output has been refusing us (`once_refused_timeout_seconds` ends a --once run on it) counts from
 * the first refusal after the last success, on the monotonic clock: also when that success came moments after
 * the process started, and the refusals follow within the span a refusal is remembered across resets.
 */
describe('delivery: the refusal span', () => {
  it('counts refusals that follow a success soon after start (a --once run can give up on them)', async () => {
    let refuse = false;
    const output: Output = {
      name: 'devo_1',
      type: 'devo_platform',
      start: async () => {},
      write: async () => {
        if (refuse) throw new OutputError(604, 'The receiver rejected our client certificate', { retryable: true });
      },
      ready: () => true,
      stop: async () => {},
    };
    const pipeline = new DeliveryPipeline([output], { statsPeriodMs: 0, retryInitialMs: 20, retryMaxMs: 40 });
    await pipeline.start();
    try {
      await (await pipeline.submit([{ tag: 'my.app.test.refusal', message: 'delivered' }])).delivered;
      refuse = true;
      const { delivered } = await pipeline.submit([{ tag: 'my.app.test.refusal', message: 'refused' }]);
      delivered.catch(() => undefined);
      const until = performance.now() + 5_000;
      while ((pipeline.refusal()?.forMs ?? 0) < 200 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
      // Before: the success set "last refusal" to 0, a moment that is never 90 s before a refusal this early in the
      // process's life, so the span never began and a --once run retried a refusing receiver forever.
      expect(pipeline.refusal()).toMatchObject({ output: 'devo_1', error: { id: 604 } });
      expect(pipeline.refusal()!.forMs).toBeGreaterThanOrEqual(200);
    } finally {
      await pipeline.stop({ budgetMs: 500 });
    }
  });
});
