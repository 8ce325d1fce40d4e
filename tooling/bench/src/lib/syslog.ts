/** `<14>YYYY-MM-DD HH:MM:SS.mmm <hostname> <tag>: <message>` (CONVENTIONS.md). */
const SYSLOG_LINE = /^<14>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (\S+) (\S+): ([\s\S]*)$/;

export interface ParsedLine {
  tag: string;
  message: string;
}

export function parseLine(line: string): ParsedLine | undefined {
  const match = SYSLOG_LINE.exec(line);
  return match ? { tag: match[2]!, message: match[3]! } : undefined;
}

/** The collector's own log lines forwarded to Devo, not vendor events. */
export function isInternalTag(tag: string): boolean {
  return tag.startsWith('devo.collectors.');
}

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
    const parsed = parseLine(line);
    if (!parsed) {
      unknown++;
      continue;
    }
    if (isInternalTag(parsed.tag)) continue;
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
