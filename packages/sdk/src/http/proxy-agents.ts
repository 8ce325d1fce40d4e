import type { Agent as HttpAgentType, AgentOptions, ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions as HttpsAgentOptions } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { redact } from '../secrets/redactor.js';
import { nodeHttp } from './node-http.js';
import { describeProxy, proxyAuthorization, proxyFor, type ProxySettings } from './proxy.js';

const { Agent: HttpAgent, request: httpRequest } = nodeHttp;

/**
 * Node `http.Agent`/`https.Agent` that honour the outbound proxy settings, for libraries that take Node agents
 * (the AWS SDK's request handler): a connection to a host the settings proxy is a CONNECT tunnel through the
 * proxy (TLS to the target inside it for https), any other is direct. The SDK's own HTTP client opens its
 * tunnels with the same `tunnel()` (connection-pool.ts).
 */

type Callback = (error: Error | null, socket: Duplex) => void;

/** A raw socket to `host:port` through the proxy's CONNECT tunnel (also the SDK client's, connection-pool.ts). */
export function tunnel(proxy: URL, host: string, port: number, timeoutMs: number, callback: (error: Error | null, socket?: Socket) => void): void {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const authorization = proxyAuthorization(proxy);
  const request = (proxy.protocol === 'https:' ? httpsRequest : httpRequest)({
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    port: Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80),
    method: 'CONNECT',
    path: authority,
    headers: { host: authority, ...(authorization ? { 'proxy-authorization': authorization } : {}) },
    agent: false,
    timeout: timeoutMs,
  });
  let done = false;
  const finish = (error: Error | null, socket?: Socket) => {
    if (done) return;
    done = true;
    callback(error, socket);
  };
  const onTimeout = () => request.destroy(new Error(`The proxy ${describeProxy(proxy)} did not answer CONNECT ${authority} within ${timeoutMs} ms`));
  request.once('timeout', onTimeout);
  request.once('connect', (response, socket) => {
    if (response.statusCode === 200) {
      // The tunnel is ours now: the CONNECT timeout must not close it later while it idles in the pool.
      request.off('timeout', onTimeout);
      socket.setTimeout(0);
      return finish(null, socket);
    }
    socket.destroy();
    // `proxyStatus` tells the HTTP client a refusal (401/407: not retried) from a failure to reach the proxy.
    const refusal = new Error(`The proxy ${describeProxy(proxy)} answered ${response.statusCode} ${redact(response.statusMessage ?? '')} to CONNECT ${authority}`);
    finish(Object.assign(refusal, { proxyStatus: response.statusCode }));
  });
  request.once('error', (error: NodeJS.ErrnoException) => finish(Object.assign(new Error(`Cannot reach the proxy ${describeProxy(proxy)}: ${redact(error.message)}`), { code: error.code })));
  request.end();
}

export interface ProxyAgentsOptions extends HttpsAgentOptions {
  /** How long the proxy may take to answer CONNECT. Default 30 s. */
  proxyConnectTimeoutMs?: number;
}

/** Host, port and proxy of a connection the agent is asked for (undefined proxy: connect directly). */
function route(options: ClientRequestArgs, scheme: 'http' | 'https', settings: ProxySettings): { host: string; port: number; proxy: URL | undefined } {
  const host = String(options.hostname ?? options.host ?? 'localhost');
  const port = Number(options.port) || (scheme === 'https' ? 443 : 80);
  return { host, port, proxy: proxyFor(new URL(`${scheme}://${isIP(host) === 6 ? `[${host}]` : host}:${port}`), settings) };
}

class TunnellingHttpAgent extends HttpAgent {
  constructor(
    options: AgentOptions,
    private readonly settings: ProxySettings,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }

  override createConnection(options: ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    const { host, port, proxy } = route(options, 'http', this.settings);
    if (!proxy) return super.createConnection(options, callback);
    tunnel(proxy, host, port, this.connectTimeoutMs, (error, socket) => callback?.(error, socket as Duplex));
    return undefined;
  }
}

class TunnellingHttpsAgent extends HttpsAgent {
  constructor(
    options: HttpsAgentOptions,
    private readonly settings: ProxySettings,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }

  override createConnection(options: ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    const { host, port, proxy } = route(options, 'https', this.settings);
    if (!proxy) return super.createConnection(options, callback);
    tunnel(proxy, host, port, this.connectTimeoutMs, (error, socket) => {
      if (error || !socket) return callback?.(error ?? new Error('No tunnel'), undefined as never);
      // TLS to the target inside the tunnel, with the agent's options (ca, servername, session reuse).
      const tls = tlsConnect({ ...(options as ConnectionOptions), socket, servername: (options as ConnectionOptions).servername ?? (isIP(host) ? undefined : host) });
      callback?.(null, tls);
    });
    return undefined;
  }
}

/**
 * `{ httpAgent, httpsAgent }` for `settings` (plain agents when there is no proxy), e.g.
 * `new NodeHttpHandler({ ...proxyAgents(ctx.http.proxy, { keepAlive: true }) })` or the AWS SDK's
 * `requestHandler: { httpAgent, httpsAgent }`.
 */
export function proxyAgents(settings: ProxySettings | undefined, options: ProxyAgentsOptions = {}): { httpAgent: HttpAgentType; httpsAgent: HttpsAgent } {
  const { proxyConnectTimeoutMs = 30_000, ...agentOptions } = options;
  if (!settings) return { httpAgent: new HttpAgent(agentOptions), httpsAgent: new HttpsAgent(agentOptions) };
  return {
    httpAgent: new TunnellingHttpAgent(agentOptions, settings, proxyConnectTimeoutMs),
    httpsAgent: new TunnellingHttpsAgent(agentOptions, settings, proxyConnectTimeoutMs),
  };
}
