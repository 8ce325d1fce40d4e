import type { TimeWindow, TimeWindowSpec } from './time-window-types.js';

export type { TimeWindow, TimeWindowSpec } from './time-window-types.js';

/** Splits [from, now - delay] into consecutive windows of at most maxSpanMs. */
export function* timeWindows(spec: TimeWindowSpec): Generator<TimeWindow> {
  const now = (spec.now ?? new Date()).getTime();
  let start = spec.from.getTime();
  const edge = now - (spec.delayMs ?? 0);
  const until = spec.wholeWindows ? start + Math.max(0, Math.floor((edge - start) / spec.maxSpanMs)) * spec.maxSpanMs : edge;
  const minSpan = spec.minSpanMs ?? 1000;
  if (until - start < minSpan) return;
  const total = Math.ceil((until - start) / spec.maxSpanMs);
  for (let index = 1; start < until; index++) {
    const end = Math.min(start + spec.maxSpanMs, until);
    yield { start: new Date(start), end: new Date(end), index, total };
    start = end;
  }
}

/**
 * Where a service without a checkpoint starts under `--start-at` (a cutover from another collector): that
 * instant minus the service's own look-back, so the first pull overlaps the old collector's last one by the
 * same span every later pull re-reads. Undefined without `--start-at` or once the service has a checkpoint:
 * the vendor's initial start then applies, e.g. `cutoverStart(ctx, lookbackMs) ?? configuredStart`.
 */
export function cutoverStart(ctx: { startAt?: Date | undefined }, lookbackMs = 0): Date | undefined {
  return ctx.startAt ? new Date(ctx.startAt.getTime() - lookbackMs) : undefined;
}
