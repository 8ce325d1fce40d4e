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
