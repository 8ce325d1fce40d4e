/**
 * Parses the config time formats of CONVENTIONS.md: ISO 8601 `YYYY-MM-DDTHH:MM:SSZ`, also without `Z`
 * (read as UTC), with fractional seconds, or with an explicit offset. Returns undefined when malformed, so
 * each vendor raises its own documented error ID.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

export function parseConfigTime(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value !== 'string') return undefined;
  const m = ISO.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '', zone = 'Z'] = m;
  const ms = frac ? Math.round(Number(`0${frac}`) * 1000) : 0;
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  // Reject dates that Date.UTC silently rolled over (2024-02-31 → March 2).
  const check = new Date(base);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  if (zone === 'Z') return check;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
  return new Date(base - sign * offsetMin * 60_000);
}

/** `YYYY-MM-DD` (e.g. `reset_persistence_auth`). */
export function parseConfigDate(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value.trim())) return undefined;
  return parseConfigTime(`${value.trim()}T00:00:00Z`);
}

/** The UTC `YYYY-MM-DDTHH:MM:SSZ` form used in log lines and vendor queries. */
export function formatUtc(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
