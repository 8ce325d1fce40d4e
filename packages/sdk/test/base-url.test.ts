import { describe, expect, it } from 'vitest';
import { baseUrlOr, parseBaseUrl, trimTrailingSlashes } from '@collector/sdk';

describe('base URLs (override_base_url and kin)', () => {
  it('accepts http(s) URLs and strips trailing slashes', () => {
    expect(parseBaseUrl('https://api.example.com/')).toEqual({ ok: true, url: 'https://api.example.com' });
    expect(parseBaseUrl('  https://api.example.com/v1.0//  ')).toEqual({ ok: true, url: 'https://api.example.com/v1.0' });
    expect(parseBaseUrl('http://127.0.0.1:4000')).toEqual({ ok: true, url: 'http://127.0.0.1:4000' });
  });

  it('says why a value is not a base URL', () => {
    expect(parseBaseUrl(123)).toEqual({ ok: false, problem: 'not-string' });
    expect(parseBaseUrl('  ')).toEqual({ ok: false, problem: 'empty' });
    expect(parseBaseUrl('not a url')).toEqual({ ok: false, problem: 'malformed' });
    expect(parseBaseUrl('ftp://files.example.com')).toEqual({ ok: false, problem: 'not-http' });
    expect(parseBaseUrl('https://h.example.com/api', { originOnly: true })).toEqual({ ok: false, problem: 'has-path' });
    expect(parseBaseUrl('https://user:pw@h.example.com', { originOnly: true })).toEqual({ ok: false, problem: 'has-path' });
  });

  it('reads a bare host[:port] as HTTPS when asked to, and checks the port', () => {
    expect(parseBaseUrl('dt.example.com', { bareHost: true })).toEqual({ ok: true, url: 'https://dt.example.com' });
    expect(parseBaseUrl('10.0.0.5:8443', { bareHost: true, originOnly: true })).toEqual({ ok: true, url: 'https://10.0.0.5:8443' });
    expect(parseBaseUrl('host:99999', { bareHost: true })).toEqual({ ok: false, problem: 'malformed' });
    expect(parseBaseUrl('dt.example.com/path', { bareHost: true })).toEqual({ ok: false, problem: 'malformed' });
    // Without bareHost a host alone is no URL.
    expect(parseBaseUrl('dt.example.com').ok).toBe(false);
  });

  it('falls back to the vendor default for a missing or empty value', () => {
    expect(baseUrlOr(undefined, 'https://default.example.com/')).toBe('https://default.example.com');
    expect(baseUrlOr('', 'https://default.example.com')).toBe('https://default.example.com');
    expect(baseUrlOr('https://mine.example.com///', 'https://default.example.com')).toBe('https://mine.example.com');
    expect(trimTrailingSlashes('/a/b//')).toBe('/a/b');
  });
});
