import { createHistogram, performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * Event-loop lag (how late a timer fires) without waking an idle process 100 times a second.
 *
 * prom-client measures it with `perf_hooks.monitorEventLoopDelay` at 10 ms: a native timer that fires every
 * 10 ms for the life of the process, about 6 ms of CPU a second on an idle daemon that otherwise sleeps between
 * pulls. Making that timer coarse is no fix: its histogram records the interval between fires, not their
 * lateness, so at 1 s every idle sample reads 1 s (measured: p50 1.0009 s at 1000 ms, 0.1003 s at 100 ms).
 *
 * Here one JS timer records its own lateness (fire time minus due time, in a perf_hooks histogram) and picks
 * its next interval from how busy the loop was: every 10 ms while the event loop was busier than 2 % over the
 * last half second (a pull, a delivery: where a long callback delays scrapes, probes and acknowledgements, and
 * where a 200 ms block reads ≈ 0.2 s), every 500 ms when it was not (an idle daemon: two wake-ups a second).
 * The cost of that choice: a block in an otherwise idle process (or in the first half second of activity)
 * shows only if a 500 ms sample falls in it, and then as the part of it after the sample's due time.
 */
export const FINE_MS = 10;
export const COARSE_MS = 500;
/** Share of the last COARSE_MS the loop spent running callbacks above which it is sampled every FINE_MS. */
export const BUSY_UTILIZATION = 0.02;

export interface LagSummary {
  /** Seconds. */
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
}

export class EventLoopLag {
  private readonly histogram = createHistogram();
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  private fine = false;
  private windowAt = 0;
  private windowElu: EventLoopUtilization | undefined;

  start(): void {
    if (this.timer) return;
    this.windowAt = performance.now();
    this.windowElu = performance.eventLoopUtilization();
    this.arm(COARSE_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The lateness recorded since the previous call (a scrape or an OTLP export), then a fresh start. */
  take(): LagSummary {
    const h = this.histogram;
    // No fire since the last call (scrapes faster than the idle interval): the pending timer is as late as
    // it is now (0 if it is not due yet), which is what a sample taken now would read.
    if (h.count === 0) record(h, performance.now() - this.due);
    const s = (ns: number) => ns / 1e9;
    const summary: LagSummary = {
      min: s(h.min),
      max: s(h.max),
      mean: s(h.mean),
      stddev: s(h.stddev),
      p50: s(h.percentile(50)),
      p90: s(h.percentile(90)),
      p99: s(h.percentile(99)),
    };
    h.reset();
    return summary;
  }

  private arm(ms: number): void {
    this.due = performance.now() + ms;
    // unref: measuring never keeps a process alive that has nothing else to do.
    this.timer = setTimeout(this.tick, ms).unref();
  }

  private readonly tick = (): void => {
    const now = performance.now();
    record(this.histogram, now - this.due);
    if (now - this.windowAt >= COARSE_MS) {
      this.fine = performance.eventLoopUtilization(this.windowElu).utilization > BUSY_UTILIZATION;
      this.windowAt = now;
      this.windowElu = performance.eventLoopUtilization();
    }
    this.arm(this.fine ? FINE_MS : COARSE_MS);
  };
}

/** Lateness in ms into the histogram in ns; a timer fires at libuv's ms tick, so a hair early reads 0. */
function record(histogram: ReturnType<typeof createHistogram>, lateMs: number): void {
  histogram.record(Math.max(1, Math.round(lateMs * 1e6)));
}
