import { formatUtc, pullWindows, type PullBatch, type PullContext, type TimeWindow, type WindowEnd, type WindowLines } from '@collector/sdk';
import type { HistoricLimits, ServiceOptions } from './config.js';
import { messageTracePolicy, planPull, type MessageTraceCheckpoint, type PipelineShape } from './historic.js';

/** What one pipeline (window) reads: its pages; `{ unfinished }` when a stop left it part-read, or a `note` for its summary. */
export type Pipeline = (window: TimeWindow) => AsyncGenerator<readonly unknown[], WindowEnd | void>;

/** The manual's `Pull started` (lower-case s), for the services' `logLines`. */
export const O365_LOG_LINES = { pullStarted: 'Pull started' } as const;

/**
 * The manual's pipeline lines: `Running a new pipeline (start - end)` before a window; once it is committed
 * `[No events detected. ]Pull Summary: N request(s) made, N event(s) filtered, N event(s) sent to Devo.
 * Using tag: <tag>. Period from <start> to <end>`, `Savepoint reached: ...` and `A new pipeline has been
 * completed`; `Remote data is up to date!` when every due window was read; `The persistence has been
 * modified. Saving state as ...` when a first run pins its start.
 */
export function pipelineLines(tag: string, delaySeconds: number): WindowLines<MessageTraceCheckpoint> {
  const period = (window: TimeWindow) => `Period from ${formatUtc(window.start)} to ${formatUtc(window.end)}`;
  return {
    window: (window) => `Running a new pipeline (${formatUtc(window.start)} - ${formatUtc(window.end)})`,
    summary: (window, counts, end) =>
      `${counts.received === 0 ? 'No events detected. ' : ''}Pull Summary: ${counts.requests} request(s) made, ${counts.duplicates} event(s) filtered, ${counts.sent} event(s) sent to Devo. ` +
      `Using tag: ${tag}. ${period(window)}${end.note ? ` (${end.note})` : ''}`,
    committed: (savepoint) => [`Savepoint reached: Updating persistence with -> ${JSON.stringify({ ...savepoint, time_delay_in_seconds: delaySeconds })}`, 'A new pipeline has been completed'],
    pinned: (savepoint) => `The persistence has been modified. Saving state as ${JSON.stringify(savepoint)}`,
    upToDate: 'Remote data is up to date!',
  };
}

/**
 * The manual's pipelines on the SDK's window engine: a first run saves where it starts (a restart resumes
 * there), then each window runs, is committed and summed up in the manual's words.
 */
export function pullPipelines(
  ctx: PullContext<unknown, unknown>,
  checkpoint: MessageTraceCheckpoint | undefined | null,
  o: ServiceOptions,
  limits: HistoricLimits,
  shape: PipelineShape,
  pipeline: Pipeline,
): AsyncGenerator<PullBatch<MessageTraceCheckpoint>> {
  const args = { checkpoint, now: ctx.now(), limits, lookbackSeconds: o.lookbackSeconds, delaySeconds: o.delaySeconds, resetPersistenceAuth: o.resetPersistenceAuth, startAt: ctx.startAt, log: ctx.log, ...shape };
  const policy = { ...messageTracePolicy(args), pinStart: true, lines: pipelineLines(ctx.tag, o.delaySeconds) };
  return pullWindows(ctx, checkpoint, policy, pipeline, planPull(args));
}
