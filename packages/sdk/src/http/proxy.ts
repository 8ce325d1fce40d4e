import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors/collector-error.js';
import { registerSecret } from '../secrets/redactor.js';
import type { ProxySettings } from './http-types.js';

export type { ProxySettings } from './http-types.js';

/**
 * Outbound proxies for every vendor API and the AWS SDK: `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (the
 * lower-case names win, as in curl and undici), or `globals.proxy` for operators who cannot set the
 * environment. Resolved once per runtime; the HTTP client and the Node agents (proxy-agents.ts) both route
 * with `proxyFor`, so vendor APIs and AWS take the same path.
 */

/** `globals.proxy` in config.yaml. */
export interface ProxyConfig {
  /** false: no proxy at all, whatever the environment says. Default true. */
  enabled?: boolean;
  https_proxy?: string;
  http_proxy?: string;
  /** Hosts reached directly: a comma-separated string or a list. */
  no_proxy?: string | string[];
}


/** ConfigError ID of a proxy URL that cannot be used (SDK README, HTTP). */
export const PROXY_URL_ERROR = 14;

function parseProxyUrl(value: string, where: string): URL {
  const text = value.trim();
  // `proxy:3128` without a scheme means http://, as in curl.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(PROXY_URL_ERROR, `The proxy address is not a URL; use http://[user:password@]host:port`, { path: where });
  }
  // The password is a secret from here on: registered before any message could carry it.
  if (url.password) registerSecret(decodeURIComponent(url.password));
  else if (url.username) registerSecret(decodeURIComponent(url.username));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(PROXY_URL_ERROR, `The proxy ${url.protocol}//${url.host} is not an HTTP proxy; use http:// or https://`, { path: where });
  }
  if (!url.hostname) throw new ConfigError(PROXY_URL_ERROR, 'The proxy address has no host; use http://[user:password@]host:port', { path: where });
  return url;
}

/** `Basic ...` for the credentials in a proxy URL, or undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** `http://proxy.example:3128 (with credentials)`: a proxy as log lines may show it. */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}${proxy.username || proxy.password ? ' (with credentials)' : ''}`;
}

/**
 * NO_PROXY as curl reads it: `*` bypasses everything; `example.com`, `.example.com` and `*.example.com` match
 * that host and its subdomains; `host:port` only that port; IP addresses and CIDR ranges (`10.0.0.0/8`,
 * `fd00::/8`) match addresses in them. Loopback is not bypassed implicitly: list it when it should be.
 */
function noProxyMatcher(entries: string[]): (hostname: string, port: number) => boolean {
  if (entries.includes('*')) return () => true;
  const ranges = new BlockList();
  const names: { name: string; port: number }[] = [];
  for (const entry of entries) {
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    const family = cidr ? isIP(cidr[1]!) : 0;
    if (cidr && family) {
      ranges.addSubnet(cidr[1]!, Number(cidr[2]), family === 6 ? 'ipv6' : 'ipv4');
      continue;
    }
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const hostPort = bracketed ? undefined : /^([^:]+):(\d+)$/.exec(entry);
    const name = (bracketed?.[1] ?? hostPort?.[1] ?? entry).replace(/^\*?\./, '').toLowerCase();
    names.push({ name, port: Number(bracketed?.[2] ?? hostPort?.[2] ?? 0) });
  }
  return (hostname, port) => {
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const family = isIP(host);
    if (family && ranges.check(host, family === 6 ? 'ipv6' : 'ipv4')) return true;
    return names.some((n) => (n.port === 0 || n.port === port) && (host === n.name || host.endsWith(`.${n.name}`)));
  };
}

function splitNoProxy(value: string | string[] | undefined): string[] {
  const list = Array.isArray(value) ? value : (value ?? '').split(/[,\s]+/);
  return list.map((e) => e.trim()).filter(Boolean);
}

/**
 * The proxy settings of a runtime: each of `globals.proxy`'s keys wins over its environment variable; an
 * invalid URL is ConfigError 14 with the key or variable as its path. Undefined when no proxy is set.
 */
export function resolveProxy(config: ProxyConfig | undefined, env: NodeJS.ProcessEnv = process.env): ProxySettings | undefined {
  if (config?.enabled === false) return undefined;
  const pick = (key: 'https_proxy' | 'http_proxy'): { value: string; where: string } | undefined => {
    const configured = config?.[key]?.trim();
    if (configured) return { value: configured, where: `globals.proxy.${key}` };
    for (const name of [key, key.toUpperCase()]) {
      const value = env[name]?.trim();
      if (value) return { value, where: name };
    }
    return undefined;
  };
  const https = pick('https_proxy');
  const http = pick('http_proxy');
  if (!https && !http) return undefined;
  const httpUrl = http && parseProxyUrl(http.value, http.where);
  const httpsUrl = https ? parseProxyUrl(https.value, https.where) : httpUrl;
  const noProxy = config?.no_proxy !== undefined ? splitNoProxy(config.no_proxy) : splitNoProxy(env['no_proxy'] ?? env['NO_PROXY']);
  return { https: httpsUrl, http: httpUrl, noProxy, bypass: noProxyMatcher(noProxy) };
}

/** The proxy a request to `target` goes through, or undefined for a direct connection. */
export function proxyFor(target: URL, settings: ProxySettings | undefined): URL | undefined {
  if (!settings) return undefined;
  const proxy = target.protocol === 'https:' ? settings.https : settings.http;
  if (!proxy) return undefined;
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
  return settings.bypass(target.hostname, port) ? undefined : proxy;
}

/** One line for the start-up log: where each scheme goes. */
export function describeProxySettings(settings: ProxySettings): string {
  const parts = [
    settings.https ? `https:// through ${describeProxy(settings.https)}` : 'https:// direct',
    settings.http ? `http:// through ${describeProxy(settings.http)}` : 'http:// direct',
  ];
  return `Outbound proxy: ${parts.join(', ')}${settings.noProxy.length ? `; direct for ${settings.noProxy.join(',')}` : ''}`;
}
