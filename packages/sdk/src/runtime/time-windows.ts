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
  now?: Date;
}

/** Splits [from, now - delay] into consecutive windows of at most maxSpanMs. */
export function* timeWindows(spec: TimeWindowSpec): Generator<TimeWindow> {
  const now = (spec.now ?? new Date()).getTime();
  const until = now - (spec.delayMs ?? 0);
  const minSpan = spec.minSpanMs ?? 1000;
  let start = spec.from.getTime();
  if (until - start < minSpan) return;
  const total = Math.ceil((until - start) / spec.maxSpanMs);
  for (let index = 1; start < until; index++) {
    const end = Math.min(start + spec.maxSpanMs, until);
    yield { start: new Date(start), end: new Date(end), index, total };
    start = end;
  }
}
