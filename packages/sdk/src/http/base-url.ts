/**
 * `override_base_url` and its kin (`credentials.instance`, `override_base_auth_url`, ...): validated once
 * here, with trailing slashes stripped so that vendors can append `/path`. Vendors map a problem to their
 * own documented error ID; they never parse URLs themselves.
 */
export type BaseUrlProblem = 'not-string' | 'empty' | 'malformed' | 'not-http' | 'has-path';

export interface BaseUrlRules {
  /** Only `scheme://host[:port]`: no path, query, fragment or user info (the URL is then the origin). */
  originOnly?: boolean;
  /** Also accept a bare `host[:port]`, meaning `https://host[:port]`. */
  bareHost?: boolean;
}

export type BaseUrlResult = { ok: true; url: string } | { ok: false; problem: BaseUrlProblem };

const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/** `https://host/api///` → `https://host/api`. */
export function trimTrailingSlashes(value: string): string {
  return value.replace(/\/+$/, '');
}

/** An http(s) base URL without trailing slashes, or why `value` is not one. */
export function parseBaseUrl(value: unknown, rules: BaseUrlRules = {}): BaseUrlResult {
  if (typeof value !== 'string') return { ok: false, problem: 'not-string' };
  const text = trimTrailingSlashes(value.trim());
  if (text === '') return { ok: false, problem: 'empty' };
  if (rules.bareHost && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) {
    const match = HOST_PORT.exec(text);
    if (!match || (match[1] !== undefined && (Number(match[1]) < 1 || Number(match[1]) > 65535))) return { ok: false, problem: 'malformed' };
    return { ok: true, url: `https://${text}` };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: 'not-http' };
  if (rules.originOnly) {
    if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return { ok: false, problem: 'has-path' };
    return { ok: true, url: url.origin };
  }
  return { ok: true, url: trimTrailingSlashes(url.toString()) };
}

/** The configured base URL when it is a non-empty string, else the vendor's default; without trailing slashes. */
export function baseUrlOr(value: unknown, fallback: string): string {
  return trimTrailingSlashes(typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback);
}
