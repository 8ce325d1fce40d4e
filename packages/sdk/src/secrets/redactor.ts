/**
 * One process-wide registry of secret values. Every log line, error message and state file goes through
 * `redact`, so a credential cannot leak even when a vendor echoes it back in an error body or a URL.
 */
const secrets = new Set<string>();
let pattern: RegExp | undefined;

const MASK = '****';
/** Values this short would mask ordinary words; credentials are never this short. */
const MIN_SECRET_LENGTH = 4;

function escape(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function registerSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  // Also the forms a secret takes inside URLs and Basic auth headers.
  secrets.add(encodeURIComponent(value));
  const longestFirst = [...secrets].sort((a, b) => b.length - a.length).map(escape);
  pattern = new RegExp(longestFirst.join('|'), 'g');
}

export function redact(text: string): string {
  if (!pattern || text.length === 0) return text;
  return text.replace(pattern, MASK);
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
  pattern = undefined;
}

export function isSecretRegistered(value: string): boolean {
  return secrets.has(value);
}
