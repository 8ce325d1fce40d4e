import type { CollectorRuntime } from '@collector/sdk/host';

/**
 * Counts the keys the runtime's acknowledgement journal appended, each once its append returned: what a test
 * compares with the events written, to check that at most one batch is written and not journaled.
 */
export function countJournaledKeys(runtime: CollectorRuntime): { readonly count: number } {
  const counter = { count: 0 };
  const append = runtime.journal.append.bind(runtime.journal);
  runtime.journal.append = async (key, keys) => {
    await append(key, keys);
    counter.count += keys.length;
  };
  return counter;
}
