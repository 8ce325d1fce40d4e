import { createHmac, timingSafeEqual } from 'node:crypto';

/** hex(HMAC-SHA1(private, pathAndQuery + "\n" + public + "\n" + date)): the Threat Visualizer API signature. */
export function expectedSignature(privateToken: string, publicToken: string, pathAndQuery: string, date: string): string {
  return createHmac('sha1', privateToken).update(`${pathAndQuery}\n${publicToken}\n${date}`).digest('hex');
}

export function signaturesMatch(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The DTAPI-Date forms clients send: `YYYYMMDDTHHMMSS` (API guide, Elastic), `YYYY-MM-DD HH:MM:SS`
 * (darktrace-sdk), both UTC; or ISO 8601 with a zone (XSOAR). Undefined when unreadable.
 */
export function parseDtapiDate(value: string): number | undefined {
  const compact = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(value);
  const spaced = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(value);
  const parts = compact ?? spaced;
  if (parts) {
    const [, y, mo, d, h, mi, s] = parts.map(Number) as number[];
    return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  }
  if (/(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}
