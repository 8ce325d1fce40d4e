/** Exponential back-off: the first wait, the cap it doubles up to, and how much of each wait is random. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /**
   * Share of each wait drawn at random (0–1, default 0.5: "equal jitter", the wait lies between half and all
   * of the exponential step). Without it, replicas that failed together retry together: after a Devo or
   * vendor outage they would reconnect in lockstep.
   */
  jitter?: number;
}

/**
 * The wait before retry number `attempt` (0 for the first retry): min(maxMs, initialMs × 2^attempt), of
 * which the `jitter` share is random. The one back-off of the SDK: HTTP retries, output reconnects and
 * the delivery pipeline's write retries all use it.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0.5));
  return step * (1 - jitter) + random() * step * jitter;
}
