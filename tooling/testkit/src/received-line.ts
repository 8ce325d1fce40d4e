import type { Rsyslog } from './rsyslog.js';

/** Tag prefix of the collector's own log lines (CONVENTIONS.md), sent to Devo beside the vendor events. */
export const COLLECTOR_LOG_TAG_PREFIX = 'devo.collectors.';

/** Whether a tag is one of the collector's own log lines rather than a vendor event. */
export function isCollectorLogTag(tag: string): boolean {
  return tag.startsWith(COLLECTOR_LOG_TAG_PREFIX);
}

/** One line as the Devo receiver (rsyslog) got it, split into the fields of the DCSDK wire format. */
export interface ReceivedLine {
  /** `YYYY-MM-DD HH:MM:SS.mmm` (UTC). */
  timestamp: string;
  hostname: string;
  tag: string;
  /** Everything after `<tag>: `, byte for byte (a JSON object for vendor events and log lines). */
  message: string;
  /** The whole line as received. */
  raw: string;
}

/** A vendor event line with its message parsed. */
export interface ReceivedEvent extends ReceivedLine {
  event: Record<string, unknown>;
}

/**
 * `<14>YYYY-MM-DD HH:MM:SS.mmm <hostname> <tag>: <message>` (CONVENTIONS.md, "Events on the wire"). PRI 14
 * is the only one the SDK sends, so any other is a wire-format error. `[\s\S]` because an octet-counted
 * message may contain newlines.
 */
const DCSDK_LINE = /^<14>(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) (\S+) (\S+): ([\s\S]*)$/;

/** Splits one received line; undefined when it is not in the DCSDK wire format (receivers that count). */
export function tryParseReceivedLine(raw: string): ReceivedLine | undefined {
  const match = DCSDK_LINE.exec(raw);
  if (!match) return undefined;
  const [, timestamp, hostname, tag, message] = match as unknown as [string, string, string, string, string];
  return { timestamp, hostname, tag, message, raw };
}

/** Splits one received line; throws when it is not in the DCSDK wire format (a test should fail then). */
export function parseReceivedLine(raw: string): ReceivedLine {
  const line = tryParseReceivedLine(raw);
  if (!line) throw new Error(`Not a DCSDK syslog line: ${raw.slice(0, 200)}`);
  return line;
}

/** Whether a received line is a vendor event in the wire format (not one of the collector's own log lines). */
export function isVendorEventLine(raw: string): boolean {
  const line = tryParseReceivedLine(raw);
  return line !== undefined && !isCollectorLogTag(line.tag);
}

/** Every line split (log lines included); throws on the first line that is not in the DCSDK wire format. */
export function parseReceivedLines(lines: readonly string[]): ReceivedLine[] {
  return lines.map(parseReceivedLine);
}

/**
 * The vendor events among received lines, in order, each message parsed as JSON: the collector's own log
 * lines (`devo.collectors.*`) are left out. Throws on a line not in the wire format or a non-JSON event.
 */
export function parseReceivedEvents(lines: readonly string[]): ReceivedEvent[] {
  const events: ReceivedEvent[] = [];
  for (const line of parseReceivedLines(lines)) {
    if (isCollectorLogTag(line.tag)) continue;
    events.push({ ...line, event: JSON.parse(line.message) as Record<string, unknown> });
  }
  return events;
}

/**
 * The vendor events rsyslog received after its first `fromLine` lines, once at least `expected` of them are
 * there. The SDK acknowledges a record when it was flushed to the TLS connection, but rsyslog may still be
 * writing its file, so this polls. After `timeoutMs` it returns what arrived, without throwing: the caller's
 * count assertion then shows what is missing.
 */
export async function waitForReceivedEvents(rsyslog: Pick<Rsyslog, 'lines'>, fromLine: number, expected: number, timeoutMs = 10_000): Promise<ReceivedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const received = parseReceivedEvents(rsyslog.lines().slice(fromLine));
    if (received.length >= expected || Date.now() > deadline) return received;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
