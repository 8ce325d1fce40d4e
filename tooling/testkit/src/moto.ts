import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { freePort } from './free-port.js';

/** A moto server (S3 + SQS + STS emulator, real S3 → SQS notifications) owned by the caller. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: give it to the AWS SDK as `endpoint` (S3 needs `forcePathStyle: true`). */
  endpoint: string;
  port: number;
  /** Wipes every bucket, queue and role (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** How long to wait for the server to answer. Default 20 s (it starts in < 1 s on an idle machine). */
  timeoutMs?: number;
}

/**
 * The command that starts the REAL moto server, not a pyenv shell shim: a shim's PID is not Python's, so
 * killing it could leave the server running. `MOTO_SERVER` overrides it (a path to `moto_server`).
 */
function motoCommand(): { file: string; args: string[] } {
  const fromEnv = process.env['MOTO_SERVER'];
  if (fromEnv) return { file: fromEnv, args: [] };
  try {
    const resolved = execFileSync('pyenv', ['which', 'moto_server'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (resolved && existsSync(resolved)) return { file: resolved, args: [] };
  } catch {
    // no pyenv: fall through to the Python module
  }
  try {
    const python = execFileSync('pyenv', ['which', 'python3'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (python && existsSync(python)) return { file: python, args: ['-m', 'moto.server'] };
  } catch {
    // no pyenv
  }
  return { file: 'python3', args: ['-m', 'moto.server'] };
}

function httpStatus(port: number, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, timeout: 5_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

/** Processes started here, stopped when the test process exits even if a test forgot to. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // The child leads its own process group (detached): this reaches Python even behind a wrapper script.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

async function startOnce(port: number, timeoutMs: number): Promise<{ child: ChildProcess; exited: Promise<void> } | undefined> {
  const { file, args } = motoCommand();
  const child = spawn(file, [...args, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < 4_000) stderr += d;
  });
  child.once('error', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  running.add(child);
  void exited.then(() => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) killGroup(c, 'SIGKILL');
    });
  }
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) {
      // Most likely another test file took the port between freePort() and the bind: try another one.
      if (/address already in use|Errno 98/i.test(stderr)) return undefined;
      throw new Error(`moto_server exited at start: ${stderr.slice(-500)}`);
    }
    try {
      // Our own child answers moto's API (not some other server that grabbed the port).
      if ((await httpStatus(port, 'GET', '/moto-api/data.json')) === 200 && !gone) return { child, exited };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  killGroup(child, 'SIGKILL');
  throw new Error(`moto_server did not answer on 127.0.0.1:${port} within ${timeoutMs} ms: ${stderr.slice(-500)}`);
}

/**
 * Starts moto's server mode on a free loopback port. Every caller gets its own process, so test files
 * running in parallel never share buckets or queues.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const started = await startOnce(port, timeoutMs);
    if (!started) continue;
    const { child, exited } = started;
    return {
      endpoint: `http://127.0.0.1:${port}`,
      port,
      async reset() {
        const status = await httpStatus(port, 'POST', '/moto-api/reset');
        if (status !== 200) throw new Error(`moto reset answered HTTP ${status}`);
      },
      async stop() {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      },
    };
  }
  throw new Error('moto_server: no free port after 5 attempts');
}
