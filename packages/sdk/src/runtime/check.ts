import { readFile } from 'node:fs/promises';
import { isIP, Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { CollectorError, describeError } from '../errors/collector-error.js';
import { HttpError } from '../http/http-client.js';
import type { Output } from '../delivery/types.js';
import type { OutputConfig } from '../config/load-config.js';
import { formatDuration } from '../telemetry/lag.js';
import { redact } from '../secrets/redactor.js';
import type { CollectorRuntime } from './collector-runtime.js';
import type { InputDefinition } from './definitions.js';
import { declaredRemedy, ERROR_SPECS } from '../errors/error-catalog.js';

/**
 * `--check`, the doctor: for every enabled input, setup (authentication) and each service's smallest
 * authenticated request (`probe`); for every output, a connection with the TLS handshake and the client
 * certificate. Prints a checklist with the manual's remedy for each failure. Pulls no events and writes no
 * state (run it on a runtime built with `readOnlyState: true`, as the CLI does).
 */

export interface CheckOptions {
  /** Longest wait for one service's setup and probe. Default 60 s. */
  probeTimeoutMs?: number;
  /** Longest wait for one output's connection and handshake. Default 15 s. */
  outputTimeoutMs?: number;
  /** `text` (default): the checklist line by line as the checks run; `json`: one document at the end (`--json`). */
  format?: 'text' | 'json';
}

/** One line of the checklist; `--check --json` prints them as `checks`. */
export interface CheckResult {
  ok: boolean;
  /** `input lark (id 964383) service audit_infos`, `output devo_1 (devo_platform)`. */
  what: string;
  kind: 'input' | 'output';
  input?: string;
  service?: string;
  output?: string;
  detail: string;
  remedy?: string;
}

/** What `--check --json` prints. */
export interface CheckReport {
  collector: string;
  version: string;
  config: string;
  ok: boolean;
  passed: number;
  failed: number;
  checks: CheckResult[];
}

/** An output that can test its own connection (the delivery layer's outputs may implement it). */
interface ProbingOutput extends Output {
  /** Resolves with what it verified (e.g. `TLSv1.3 handshake with the client certificate (12 ms)`). */
  probe(): Promise<string | void>;
}

const DEVO_TYPES = new Set(['devo_platform', 'relay', 'syslog', 'in_house_relay', 'sidecar']);
const DEVO_CERTS_REMEDY =
  'Download the certificate, the private key and the chain CA from Devo (Administration → Credentials → X.509 Certificates) of the domain you send to, save them in certs/, and name them in';

class CheckTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${formatDuration(ms)}`);
    this.name = 'CheckTimeout';
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(what, ms)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The operator's next step for an input failure: the error's own remedy, the input's declared one, or a generic one. */
export function remedyFor(error: unknown, definition?: InputDefinition, path?: string): string | undefined {
  if (error instanceof CollectorError) {
    const declared = definition?.errors ? declaredRemedy(definition.errors[ERROR_SPECS], error.type, error.id) : undefined;
    const specific = error.remedy ?? declared;
    if (specific) return specific;
    if (error.type === 'InitVariablesError' || error.type === 'ConfigError') return `Fix the value at ${error.path ?? path ?? 'the path shown'} in config.yaml (see the collector README), then run --validate`;
    return `Look up ${error.type} ${error.id} in the troubleshooting table of the collector README`;
  }
  if (error instanceof HttpError) {
    switch (error.kind) {
      case 'insecure':
        return 'Use an https:// address, or set allow_insecure_http: true on the input if plain HTTP is intended';
      case 'body':
        return 'The answer is not the vendor API (a proxy or login page?): check override_base_url and any proxy in between';
      case 'proxy':
        return 'Put the proxy user and password in the proxy URL (http://user:password@proxy:3128) of HTTPS_PROXY/HTTP_PROXY or globals.proxy, percent-encoding special characters';
      default:
        return 'Check the vendor address (override_base_url), DNS, the firewall and the outbound proxy (HTTPS_PROXY, NO_PROXY or globals.proxy) between this host and the vendor';
    }
  }
  if (error instanceof CheckTimeout) return 'Check the network path to the vendor; if the vendor is throttling, --show-state shows the request budget';
  return undefined;
}

function errorText(error: unknown): string {
  return error instanceof CheckTimeout ? error.message : describeError(error);
}

/** A certificate/key/chain value: inline PEM, an absolute path, or a name under `<workDir>/certs/`. */
async function pem(value: unknown, workDir: string, path: string): Promise<Buffer | string | undefined> {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value);
  if (text.includes('-----BEGIN')) return text;
  const file = isAbsolute(text) ? text : join(workDir, 'certs', text);
  try {
    return await readFile(file);
  } catch (error) {
    throw new OutputCheckError(`Cannot read ${file} (${path}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, `${DEVO_CERTS_REMEDY} ${path}`);
  }
}

class OutputCheckError extends Error {
  constructor(
    message: string,
    readonly remedy: string,
  ) {
    super(redact(message));
  }
}

/** Why a TLS connection failed, in operator terms. */
function tlsRemedy(code: string, message: string, where: string, path: string): string {
  if (code === 'ECONNREFUSED') return `Nothing accepts connections at ${where}: check ${path}.address and ${path}.port (Devo: collector-us.devo.io or collector-eu.devo.io, port 443) and the firewall`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `The name in ${path}.address does not resolve: check it and the DNS of this host`;
  if (code === 'ETIMEDOUT' || code === 'CheckTimeout') return `No answer from ${where}: a firewall or proxy drops the traffic; outbound TCP to it must be allowed`;
  if (code === 'CERT_HAS_EXPIRED') return `A certificate has expired: ${DEVO_CERTS_REMEDY} ${path}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `The receiver's certificate is not for ${path}.address: use the address of your Devo region (the name in its certificate)`;
  if (/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER|unable to get local issuer/i.test(`${code} ${message}`))
    return `The receiver's certificate is not signed by ${path}.chain: download chain.crt from the same Devo domain and region as ${path}.address`;
  if (/key values mismatch|KEY_VALUES_MISMATCH/i.test(`${code} ${message}`)) return `${path}.key is not the private key of ${path}.cert: download both again from the same Devo domain`;
  if (/PEM|no start line|bad decrypt|ASN1/i.test(`${code} ${message}`)) return `A certificate or key file is not valid PEM: ${DEVO_CERTS_REMEDY} ${path}`;
  return `The receiver refused the connection or the client certificate: ${DEVO_CERTS_REMEDY} ${path} (the domain and region must match ${path}.address)`;
}

/**
 * Opens one connection as the Devo sender would, completes the handshake with the client certificate, then
 * waits briefly: with TLS 1.3 the receiver verifies the client certificate after the client finished, and a
 * rejection arrives as an alert or a reset right after `secureConnect`.
 */
async function handshake(name: string, output: OutputConfig, workDir: string, timeoutMs: number): Promise<string> {
  const config = output.config ?? {};
  const path = `outputs.${name}.config`;
  const host = String(config['address'] ?? config['url'] ?? '');
  const port = Number(config['port'] ?? 443);
  if (!host) throw new OutputCheckError(`No address (${path}.address)`, `Set ${path}.address and ${path}.port`);
  const where = `${host}:${port}`;
  // As the sender decides: Devo types use TLS unless `type: TCP`; syslog types only with `type: SSL` or a chain.
  const devo = output.type === 'devo_platform' || output.type === 'relay';
  const type = String(config['type'] ?? '').toUpperCase();
  const plain = devo ? type === 'TCP' : !(type === 'SSL' || Boolean(config['chain'] ?? config['chain_loc']));
  const options: ConnectionOptions = { host, port };
  if (!plain) {
    const ca = await pem(config['chain'] ?? config['chain_loc'], workDir, `${path}.chain`);
    const cert = await pem(config['cert'] ?? config['cert_loc'], workDir, `${path}.cert`);
    const key = await pem(config['key'] ?? config['key_loc'], workDir, `${path}.key`);
    if (ca) options.ca = ca;
    if (cert) options.cert = cert;
    if (key) options.key = key;
    if (!isIP(host)) options.servername = host;
  }
  const started = performance.now();
  return await new Promise<string>((resolve, reject) => {
    let settled = false;
    let socket: Socket;
    const fail = (error: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      socket?.destroy();
      const code = error.code ?? error.name;
      // OpenSSL's text ("...:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../deps/...") → its reason.
      const reason = /SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1] ?? error.message;
      reject(new OutputCheckError(`${plain ? 'TCP connection' : 'TLS handshake'} with ${where} failed: ${code}${reason === code ? '' : reason.includes(code) ? `: ${reason}` : ` (${reason})`}`, tlsRemedy(code, error.message, where, path)));
    };
    const timer = setTimeout(() => fail(new CheckTimeout(`Connecting to ${where}`, timeoutMs)), timeoutMs);
    timer.unref();
    const succeed = (detail: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.end();
      socket.destroy();
      resolve(detail);
    };
    try {
      socket = plain ? new Socket().connect(port, host) : tlsConnect(options);
    } catch (error) {
      clearTimeout(timer);
      fail(error as Error); // e.g. a key that does not match the certificate
      return;
    }
    socket.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      fail(Object.assign(new Error('the receiver closed the connection right after the handshake (client certificate rejected?)'), { code: 'ECONNRESET' }));
    });
    let handshaken: string | undefined;
    // TLS 1.3: a session ticket is sent only after the server accepted our certificate.
    if (!plain) socket.once('session', () => handshaken !== undefined && succeed(handshaken));
    socket.once(plain ? 'connect' : 'secureConnect', () => {
      const handshakeMs = performance.now() - started;
      const protocol = plain ? undefined : (socket as ReturnType<typeof tlsConnect>).getProtocol?.();
      handshaken = plain ? `TCP connection (${Math.round(handshakeMs)} ms)` : `${protocol ?? 'TLS'} handshake with the client certificate (${Math.round(handshakeMs)} ms)`;
      if (plain || protocol !== 'TLSv1.3') return succeed(handshaken);
      // No ticket (some servers send none): wait a few round trips for a rejection, then call it accepted.
      setTimeout(() => succeed(handshaken!), Math.min(2_000, Math.max(300, 3 * handshakeMs))).unref();
    });
  });
}

function hasProbe(output: Output): output is ProbingOutput {
  return typeof (output as Partial<ProbingOutput>).probe === 'function';
}

/** Runs every check, writes the checklist to `out`, stops the runtime; returns the exit code (0 = all passed). */
export async function runCheck(runtime: CollectorRuntime, out: NodeJS.WritableStream, options: CheckOptions = {}): Promise<number> {
  const probeTimeout = options.probeTimeoutMs ?? 60_000;
  const outputTimeout = options.outputTimeoutMs ?? 15_000;
  const json = options.format === 'json';
  const checks: CheckResult[] = [];
  const record = (ok: boolean, subject: Omit<CheckResult, 'ok' | 'detail' | 'remedy'>, detail = '', remedy?: string) => {
    const result: CheckResult = { ok, ...subject, detail: redact(detail), ...(remedy ? { remedy: redact(remedy) } : {}) };
    checks.push(result);
    if (!json) out.write(`${ok ? '[ OK ]' : '[FAIL]'} ${result.what}${result.detail ? `: ${result.detail}` : ''}\n${result.remedy ? `       remedy: ${result.remedy}\n` : ''}`);
  };
  const { name, version } = runtime.definition;
  if (!json) out.write(`Checking ${name} ${version} (${runtime.config.file})\n`);
  try {
    for (const input of runtime.inputs) {
      // The persisted budget, so a check never overspends a daily quota (the state is only read).
      await input.sharedState.load();
      const label = `input ${input.definition.name} (id ${input.config.id})`;
      const exhausted = Object.entries(input.limiters).find(([, limiter]) => limiter.remaining() <= 0);
      if (exhausted) {
        const [pool, limiter] = exhausted;
        record(false, { what: label, kind: 'input', input: input.definition.name }, `the request budget of pool "${pool}" is used up; next request possible in ${formatDuration(limiter.waitFor(1))}`, 'Wait, or lower the request rate (request_period_in_seconds); --show-state shows the budget');
        continue;
      }
      for (const runner of input.runners) {
        const subject = { what: `${label} service ${runner.totals.service}`, kind: 'input', input: input.definition.name, service: runner.totals.service } as const;
        const started = performance.now();
        try {
          await runner.init();
          await withTimeout(runner.probe(), probeTimeout, 'Authentication and the smallest request');
          record(true, subject, `authenticated, smallest request answered (${Math.round(performance.now() - started)} ms)`);
        } catch (error) {
          record(false, subject, errorText(error), remedyFor(error, input.definition));
        }
      }
    }
    for (const output of runtime.delivery.outputs) {
      const configured = runtime.config.outputs[output.name];
      const subject = { what: `output ${output.name} (${output.type})`, kind: 'output', output: output.name } as const;
      try {
        if (hasProbe(output)) {
          const detail = await withTimeout(output.probe(), outputTimeout, 'The connection test');
          record(true, subject, typeof detail === 'string' && detail ? detail : 'connected');
        } else if (configured && DEVO_TYPES.has(configured.type)) {
          record(true, subject, await handshake(output.name, configured, runtime.config.workDir, outputTimeout));
        } else {
          record(true, subject, 'nothing to connect to');
        }
      } catch (error) {
        const remedy = error instanceof OutputCheckError ? error.remedy : error instanceof CollectorError ? remedyFor(error) : 'Check the output configuration and the receiver';
        record(false, subject, error instanceof OutputCheckError ? error.message : errorText(error), remedy);
      }
    }
  } finally {
    await runtime.stop().catch(() => undefined);
  }
  const failed = checks.filter((c) => !c.ok).length;
  const passed = checks.length - failed;
  if (json) {
    const report: CheckReport = { collector: name, version, config: runtime.config.file, ok: failed === 0, passed, failed, checks };
    out.write(`${JSON.stringify(report, null, 2)}\n`);
  } else out.write(failed === 0 ? `All ${passed} checks passed\n` : `${failed} of ${failed + passed} checks failed\n`);
  return failed === 0 ? 0 : 1;
}
