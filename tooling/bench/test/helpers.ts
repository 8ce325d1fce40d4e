import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type CollectorDefinition } from '@collector/sdk';
import { runCollector, type DeliveryRecord, type Output } from '@collector/sdk/host';
import { definitionOf, VENDORS } from '@collector/testkit';

/** The collector definitions of the HTTP (pull) vendors of the registry, by name (tests run them in-process). */
export const DEFINITIONS: Record<string, CollectorDefinition> = Object.fromEntries(
  await Promise.all(VENDORS.filter((v) => v.kind === 'pull').map(async (v) => [v.name, definitionOf<CollectorDefinition>(v, await import(v.package))])),
);

/** Records what the SDK acknowledged. */
export class CapturingOutput implements Output {
  readonly type = 'capture';
  readonly name = 'capture';
  readonly records: DeliveryRecord[] = [];
  async start() {}
  async write(records: readonly DeliveryRecord[]) {
    this.records.push(...records);
  }
  ready() {
    return true;
  }
  async stop() {}
  vendorRecords(): DeliveryRecord[] {
    return this.records.filter((r) => !r.tag.startsWith('devo.collectors.'));
  }
}

export function newWorkDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `bench-test-${prefix}-`));
}

/** The collector's command line, in-process, with the config file written as given (bytes or object). */
export async function cli(vendor: string, workDir: string, config: Buffer | string | Record<string, unknown>, argv: string[], output = new CapturingOutput()) {
  mkdirSync(join(workDir, 'config'), { recursive: true });
  const file = join(workDir, 'config', 'config.yaml');
  writeFileSync(file, Buffer.isBuffer(config) || typeof config === 'string' ? config : JSON.stringify(config));
  const logStream = new PassThrough();
  let logs = '';
  logStream.on('data', (d: Buffer) => (logs += d.toString()));
  const code = await runCollector(DEFINITIONS[vendor]!, {
    argv: [...argv, '--config', file],
    workDir,
    logStream,
    stdout: logStream,
    handleSignals: false,
    outputs: [output],
    // Real retries, short back-off: a test waits for outcomes, not for timers.
    http: { backoffBaseMs: 1, maxBackoffMs: 5 },
  } as Parameters<typeof runCollector>[1]);
  return { code, logs, output };
}

/** `<Type>Error <ID>: <message>`: the documented error line format (CONVENTIONS.md). */
export const ERROR_LINE = /\b[A-Z][A-Za-z]*Error \d+: \S/;
/** A stack frame: never printed unless globals.debug. */
export const STACK_FRAME = /\n\s+at .+:\d+:\d+\)?\n/;

/**
 * An HTTP proxy in front of a simulator that answers the requests `tamper` picks with its body (HTTP 200)
 * and forwards the rest unchanged (path and headers, so signatures stay valid).
 */
export async function tamperingProxy(target: string, tamper: (path: string) => Buffer | undefined): Promise<{ url: string; close(): Promise<void>; tampered: number }> {
  const upstream = new URL(target);
  const state = { tampered: 0 };
  const server: Server = createHttpServer((req, res) => {
    const body = tamper(req.url ?? '/');
    if (body) {
      state.tampered++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) }).end(body);
      return;
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get tampered() {
      return state.tampered;
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/**
 * A TCP forwarder on 127.0.0.1 to another 127.0.0.1 port, addressed by the IPv4-mapped form
 * `http://[::ffff:127.0.0.1]:port`: not in the documented loopback set (127.0.0.0/8, ::1, localhost), so the
 * plain-HTTP rule applies to it, while every byte stays on loopback (this workplace forbids traffic to
 * any other address).
 */
export async function tcpForwarder(targetPort: number): Promise<{ url: string; close(): Promise<void>; connections: number }> {
  const state = { connections: 0 };
  const server = createTcpServer((socket) => {
    state.connections++;
    const out = connect(targetPort, '127.0.0.1');
    socket.pipe(out).pipe(socket);
    socket.on('error', () => out.destroy());
    out.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://[::ffff:127.0.0.1]:${(server.address() as AddressInfo).port}`,
    get connections() {
      return state.connections;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}
