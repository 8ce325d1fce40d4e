/**
 * Counters of one pull cycle, printed as the manuals' statistics lines: `(Partial) Statistics for this pull
 * cycle` as progress after each window a pull commits (and once when it ends well), then `Statistics for this
 * pull cycle` when it ends, whether it succeeded or not.
 */
export class PullStatistics {
  requests = 0;
  received = 0;
  duplicates = 0;
  sent = 0;
  private readonly started = performance.now();
  /** A `(Partial) Statistics` line was printed for this cycle. */
  progressLogged = false;

  constructor(readonly pullingId: string) {}

  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  line(partial: boolean): string {
    const rate = this.sent / Math.max(this.elapsedSeconds(), 0.001);
    return (
      `${partial ? '(Partial) ' : ''}Statistics for this pull cycle (@devo_pulling_id=${this.pullingId}):` +
      `Number of requests made: ${this.requests}; Number of events received: ${this.received}; ` +
      `Number of duplicated events filtered out: ${this.duplicates}; Number of events generated and sent: ${this.sent}; ` +
      `Average of events per second: ${rate.toFixed(3)}.`
    );
  }
}

/** Totals of a service since start, for `--once` summaries, metrics and tests. */
export interface ServiceTotals {
  input: string;
  inputId: string;
  service: string;
  cycles: number;
  requests: number;
  received: number;
  duplicates: number;
  sent: number;
  errors: number;
  lastError?: string;
  /** Epoch ms of the last cycle that completed without error. */
  lastSuccess?: number;
  /** The last committed checkpoint. */
  checkpoint?: unknown;
}
