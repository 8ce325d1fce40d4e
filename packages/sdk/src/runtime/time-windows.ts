/** A half-open interval of vendor time: events with start <= t < end (vendors differ; services document theirs). */
export interface TimeWindow {
  start: Date;
  end: Date;
  /** 1-based position and total, for the manuals' "time slot" log lines. */
  index: number;
  total: number;
}

export interface TimeWindowSpec {
  /** Where to start (usually the checkpoint, or the configured start time). */
  from: Date;
  /** The longest window the vendor accepts or that keeps a response small. */
  maxSpanMs: number;
  /** How far behind now a window may end, so late-indexed events are in place before we ask. */
  delayMs?: number;
  /** Windows shorter than this are not worth a request yet; wait for the next cycle. Default 1 s. */
  minSpanMs?: number;
  /** Only windows of exactly maxSpanMs; a shorter rest waits for a later cycle. */
  wholeWindows?: boolean;
  now?: Date;
}

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
