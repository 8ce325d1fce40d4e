import { formatUtc, type PullBatch, type PullContext, type TimeWindow } from '@collector/sdk';
import type { HistoricLimits, ServiceOptions } from './config.js';
import { pinFirstStart, planPull, savepoint, type MessageTraceCheckpoint, type PipelineShape } from './historic.js';

/**
 * What one pipeline (window) does: yields its events and returns the "Pipeline summary: ..." head of the
 * manual's summary line, or undefined when a stop left the window unfinished (then nothing is committed).
 */
export type Pipeline = (window: TimeWindow) => AsyncGenerator<PullBatch<MessageTraceCheckpoint>, string | undefined>;

/**
 * The manual's pipelines over the SDK's window plan: a first run saves where it starts, then each window
 * logs "Running a new pipeline", runs, logs its summary, commits its savepoint and logs "Savepoint reached"
 * (the SDK resumes this generator only after the checkpoint was committed).
 */
export async function* pullPipelines(
  ctx: PullContext<unknown, unknown>,
  checkpoint: MessageTraceCheckpoint | undefined | null,
  o: ServiceOptions,
  limits: HistoricLimits,
  shape: PipelineShape & { completedLine?: boolean },
  pipeline: Pipeline,
): AsyncGenerator<PullBatch<MessageTraceCheckpoint>> {
  const args = { checkpoint, now: ctx.now(), limits, lookbackSeconds: o.lookbackSeconds, delaySeconds: o.delaySeconds, resetPersistenceAuth: o.resetPersistenceAuth, startAt: ctx.startAt, log: ctx.log };
  const plan = planPull({ ...args, ...shape });
  // The savepoint stands for where the next window starts plus the look-back, so a restart resumes at the plan's start.
  yield* pinFirstStart(checkpoint, new Date(plan.start.getTime() + o.lookbackSeconds * 1000), o.resetPersistenceAuth, ctx.log);
  for (const window of plan.windows) {
    if (ctx.signal.aborted) return;
    ctx.log.info(`Running a new pipeline (${formatUtc(window.start)} - ${formatUtc(window.end)})`);
    const summary = yield* pipeline(window);
    if (summary === undefined) return;
    const next = savepoint(window.end, o.resetPersistenceAuth);
    ctx.log.info(`${summary} Using tag: ${ctx.tag}. Period from ${formatUtc(window.start)} to ${formatUtc(window.end)}`);
    yield { events: [], checkpoint: next };
    ctx.log.info(`Savepoint reached: Updating persistence with -> ${JSON.stringify({ ...next, time_delay_in_seconds: o.delaySeconds })}`);
    if (shape.completedLine) ctx.log.info('A new pipeline has been completed');
  }
  if (!ctx.signal.aborted) ctx.log.info('Remote data is up to date!');
}

/** A pipeline that delivers each page as it comes and sums the window up as the manual does. */
export function forwardPages(pages: (window: TimeWindow) => AsyncIterable<readonly unknown[]>): Pipeline {
  return async function* (window) {
    let events = 0;
    for await (const rows of pages(window)) {
      events += rows.length;
      yield { events: rows };
    }
    return `${events === 0 ? 'No events detected. ' : ''}Pipeline summary: ${events} event(s) retrieved.`;
  };
}
