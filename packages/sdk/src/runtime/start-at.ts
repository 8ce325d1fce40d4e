import { formatUtc, parseConfigTime } from '../config/config-time.js';

/**
 * `--start-at`: an ISO 8601 time in UTC (`2026-12-06T09:30:00Z`; fractional seconds and an explicit offset
 * are read as the config times are). Returns the instant, or the usage error to print (exit code 2): a
 * value that is not such a time, one without a zone (on a command line a bare local-looking time is too
 * easy to get wrong by hours), or one in the future (nothing can have been collected up to it).
 */
export function parseStartAt(value: string, now = Date.now()): Date | string {
  const example = `e.g. --start-at ${formatUtc(new Date(Math.floor(now / 60_000) * 60_000))}`;
  const time = parseConfigTime(value);
  if (!time || !/(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim())) {
    return `UsageError 2: --start-at needs an ISO 8601 time in UTC such as YYYY-MM-DDTHH:MM:SSZ, ${example} (got ${JSON.stringify(value)})`;
  }
  if (time.getTime() > now) return `UsageError 3: --start-at ${formatUtc(time)} is in the future; give the time the previous collector was stopped, ${example}`;
  return time;
}
