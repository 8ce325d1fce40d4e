import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { OutputError } from '../errors/collector-error.js';
import type { Logger } from '../telemetry/logger.js';
import type { OutputConfig } from '../config/load-config.js';
import { ConsoleOutput } from './console-output.js';
import type { ConnectionTarget, TlsSettings } from './stream-connection.js';
import { StreamOutput } from './stream-output.js';
import type { Output } from './types.js';

export interface OutputFactoryContext {
  /** certs/ and state/ resolve against it. */
  workDir: string;
  log: Logger;
  /** Hostname in the syslog header. */
  hostname: string;
  /** The `globals:` block: `sender_concurrent_connections` and the gzip settings apply to every output. */
  globals?: Record<string, unknown>;
}

const DEVO_TYPES = new Set(['devo_platform', 'relay']);
const SYSLOG_TYPES = new Set(['syslog', 'in_house_relay', 'sidecar']);

/** Builds the outputs of `outputs:` in config.yaml, by type and DCSDK alias. */
export function createOutputs(outputs: Record<string, OutputConfig>, ctx: OutputFactoryContext): Output[] {
  return Object.entries(outputs).map(([name, output]) => {
    if (output.type === 'console' || output.type === 'stdout') return new ConsoleOutput(name, { json: ctx.log.json });
    if (DEVO_TYPES.has(output.type) || SYSLOG_TYPES.has(output.type)) return createStreamOutput(name, output, ctx);
    throw new OutputError(600, `Output type ${output.type} is not supported`, { path: `outputs.${name}.type` });
  });
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Reads a certificate file; relative names resolve in `<workDir>/certs/` (DCSDK devo_sender_manager.py). */
function readCertFile(file: string, key: string, path: string, workDir: string): Buffer {
  const full = isAbsolute(file) ? file : join(workDir, 'certs', file);
  try {
    return readFileSync(full);
  } catch (error) {
    throw new OutputError(603, `Cannot read the ${key} file ${full}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      path: `${path}.${key}`,
      remedy: 'Put the file in certs/ or give an absolute path',
    });
  }
}

/** `devo_platform`/`relay` and `syslog`/`in_house_relay`/`sidecar`: the same sender, different defaults. */
export function createStreamOutput(name: string, output: OutputConfig, ctx: OutputFactoryContext): StreamOutput {
  const c = output.config ?? {};
  const path = `outputs.${name}.config`;
  const devo = DEVO_TYPES.has(output.type);
  const host = str(c['address']) ?? str(c['url']);
  if (!host) throw new OutputError(602, `Output ${name} needs an address`, { path: `${path}.address` });
  const port = num(c['port'], devo ? 443 : 0);
  if (!port) throw new OutputError(602, `Output ${name} needs a port`, { path: `${path}.port` });
  const chain = str(c['chain']) ?? str(c['chain_loc']);
  const cert = str(c['cert']) ?? str(c['cert_loc']);
  const key = str(c['key']) ?? str(c['key_loc']);
  // Devo: TLS unless `type: TCP`, and all three files are required (the DCSDK refuses to run without them).
  // Syslog: plain TCP unless certificates are given or `type: SSL`.
  const wantsTls = devo ? c['type'] !== 'TCP' : c['type'] === 'SSL' || chain !== undefined;
  let tls: TlsSettings | undefined;
  if (wantsTls) {
    if (!chain) throw new OutputError(603, `Output ${name} uses TLS and needs chain`, { path: `${path}.chain` });
    if (devo && (!cert || !key)) {
      throw new OutputError(603, `Output ${name} needs cert and key (the Devo domain certificate)`, { path: `${path}.${cert ? 'key' : 'cert'}` });
    }
    if ((cert === undefined) !== (key === undefined)) throw new OutputError(603, `Output ${name} needs both cert and key`, { path: `${path}.${cert ? 'key' : 'cert'}` });
    tls = {
      ca: readCertFile(chain, 'chain', path, ctx.workDir),
      ...(cert ? { cert: readCertFile(cert, 'cert', path, ctx.workDir) } : {}),
      ...(key ? { key: readCertFile(key, 'key', path, ctx.workDir) } : {}),
      checkHostname: c['check_hostname'] !== false,
    };
  }
  const target: ConnectionTarget = {
    host,
    port,
    ...(tls ? { tls } : {}),
    connectTimeoutMs: num(c['connect_timeout_in_seconds'], 30) * 1000,
    sendTimeoutMs: Math.max(1, num(c['sending_timeout'], 5)) * 1000,
    settleMs: num(c['ack_settle_in_ms'], 20),
    verifyGraceMs: num(c['tls_verify_grace_in_ms'], 1000),
  };
  const globals = ctx.globals ?? {};
  const threshold = num(globals['devo_sender_threshold_for_using_gzip_in_transport_layer'], 1.1);
  const gzip = c['compression'] === true || (devo && threshold < 0);
  const gzipLevel = num(c['compression_level'], num(globals['devo_sender_compression_level'], 6));
  if (devo && (port !== 443 || !/^collector-(us|eu|ca|ap)\.devo\.io$/.test(host))) {
    ctx.log.debug(`Output ${name}: ${host}:${port} is not a standard Devo endpoint`);
  }
  return new StreamOutput(name, output.type, {
    target,
    hostname: str(c['hostname']) ?? ctx.hostname,
    concurrentConnections: num(c['concurrent_connections'], num(globals['sender_concurrent_connections'], 1)),
    connectingRetries: num(c['connecting_retries'], 5),
    initialWaitMs: num(c['connecting_initial_wait_in_seconds'], 2) * 1000,
    maxWaitMs: num(c['connecting_max_wait_in_seconds'], 60) * 1000,
    idleTimeoutMs: num(c['idle_timeout_in_seconds'], 30) * 1000,
    maxConnectionAgeMs: num(c['max_connection_age_in_seconds'], 3600) * 1000,
    ...(gzip ? { gzipLevel, gzipBufferBytes: num(c['compression_buffer_in_bytes'], num(globals['devo_sender_compression_buffer_in_bytes'], 51_200)) } : {}),
    log: ctx.log,
  });
}
