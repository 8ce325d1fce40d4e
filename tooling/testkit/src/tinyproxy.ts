import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

export interface Tinyproxy {
  port: number;
  /** `http://127.0.0.1:<port>`, with `user:password@` when the proxy requires them. */
  url: string;
  /** The proxy's own log (LogLevel Connect: every client connection and request line). */
  log(): string;
  /** The targets of the CONNECT requests the proxy received, in order (`localhost:43211`). */
  connects(): string[];
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Require Basic credentials (Proxy-Authorization) from every client (tinyproxy's config takes letters, digits, `-`, `_`, `.`). */
  user?: string;
  password?: string;
}

/** Starts Debian's tinyproxy on a free loopback port, in the foreground, logging each CONNECT to a file. */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tinyproxy-'));
  const logFile = join(dir, 'tinyproxy.log');
  const auth = options.user !== undefined && options.password !== undefined;
  writeFileSync(
    join(dir, 'tinyproxy.conf'),
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 60',
      `LogFile "${logFile}"`,
      'LogLevel Connect',
      'MaxClients 50',
      'Allow 127.0.0.1',
      // Every port may be tunnelled (no ConnectPort line): the peers run on random ports.
      ...(auth ? [`BasicAuth ${options.user} ${options.password}`] : []),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => ((gone = true), resolve())));
  child.once('error', () => undefined);
  // Fail with tinyproxy's own words (a config it cannot parse, a missing binary), not a port timeout.
  await Promise.race([waitForPort(port), exited.then(() => Promise.reject(new Error(`tinyproxy exited at start: ${stderr.trim() || 'is it installed? apt-get install tinyproxy'}`)))]);
  if (gone) throw new Error(`tinyproxy exited at start: ${stderr.trim()}`);
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const credentials = auth ? `${encodeURIComponent(options.user!)}:${encodeURIComponent(options.password!)}@` : '';
  return {
    port,
    url: `http://${credentials}127.0.0.1:${port}`,
    log,
    connects: () => [...log().matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
