import { isCollectorLogTag, tryParseReceivedLine } from '@collector/testkit';

export interface Tally {
  /** Distinct ground-truth ids received at least once. */
  delivered: number;
  /** Ground-truth ids never received. */
  lost: number;
  /** Extra copies of ids received more than once. */
  duplicates: number;
  /** Received vendor lines whose id is not in the ground truth (or unparsable). */
  unknown: number;
  /** Most copies of a single id. */
  maxCopies: number;
}

/** Counts what arrived against the ground truth. */
export function tally(lines: readonly string[], truth: Set<string>, identity: (event: Record<string, unknown>) => string | undefined): Tally {
  const seen = new Map<string, number>();
  let unknown = 0;
  for (const line of lines) {
    const parsed = tryParseReceivedLine(line);
    if (!parsed) {
      unknown++;
      continue;
    }
    if (isCollectorLogTag(parsed.tag)) continue;
    let id: string | undefined;
    try {
      id = identity(JSON.parse(parsed.message) as Record<string, unknown>);
    } catch {
      id = undefined;
    }
    if (id === undefined || !truth.has(id)) {
      unknown++;
      continue;
    }
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  let duplicates = 0;
  let maxCopies = 0;
  for (const copies of seen.values()) {
    duplicates += copies - 1;
    maxCopies = Math.max(maxCopies, copies);
  }
  return { delivered: seen.size, lost: truth.size - seen.size, duplicates, unknown, maxCopies };
}
