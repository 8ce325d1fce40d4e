import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The compiled probe next to this file; from the TypeScript sources (vitest) the same code as a data: URL.
const compiledProbe = fileURLToPath(new URL('./usage-probe.js', import.meta.url));
const INLINE_PROBE = `import { readFileSync, writeSync } from 'node:fs';
process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  try { writeSync(2, '\\nBENCH_MEMORY ' + JSON.stringify({ rss: m.rss / 1048576, heapTotal: m.heapTotal / 1048576, heapUsed: m.heapUsed / 1048576, external: m.external / 1048576, arrayBuffers: m.arrayBuffers / 1048576 }) + '\\n'); } catch {}
});
process.on('exit', () => {
  const u = process.resourceUsage();
  let peak = u.maxRSS;
  try { peak = Number(/^VmHWM:\\s+(\\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? peak); } catch {}
  try { writeSync(2, '\\nBENCH_USAGE ' + JSON.stringify({ userMs: u.userCPUTime / 1000, systemMs: u.systemCPUTime / 1000, maxRssKb: peak }) + '\\n'); } catch {}
});`;
const probe = existsSync(compiledProbe) ? compiledProbe : `data:text/javascript,${encodeURIComponent(INLINE_PROBE)}`;

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
  stdout: string;
  stderr: string;
  /** When the harness sent SIGKILL (ms after spawn), if it did while the child was running. */
  killedAtMs?: number;
}

export interface ChildOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Called with each chunk of stdout; return true to SIGKILL the child at that point, or a delay in ms. */
  killWhen?: (chunk: string, elapsedMs: number) => boolean | number;
  /** Called once the child is spawned (e.g. to start a receiver outage at a random moment). */
  onSpawn?: (pid: number | undefined) => void;
  /** SIGKILL after this many ms. */
  killAfterMs?: number;
  /** Polled every 5 ms while the child runs; return true to SIGKILL it (e.g. after N delivered lines). */
  killCheck?: (elapsedMs: number) => boolean;
  timeoutMs?: number;
  /** Node flags before the script (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** The spawned child (to sample its RSS or send it SIGTERM). */
  onChild?: (child: ChildProcess) => void;
}

/**
 * What a script's shebang asks of Node, so a collector is measured exactly as it ships (its launch flags and
 * environment included): `#!/usr/bin/env -S NAME=value node --flag` gives `{ env: { NAME }, nodeArgs: [--flag] }`.
 * The harness still runs this Node (`process.execPath`), not whichever `node` is first on the PATH.
 */
export function shebangLaunch(script: string): { env: Record<string, string>; nodeArgs: string[] } {
  const head = Buffer.alloc(512);
  const fd = openSync(script, 'r');
  const line = head.toString('utf8', 0, readSync(fd, head, 0, head.length, 0)).split('\n', 1)[0]!;
  closeSync(fd);
  const words = line.startsWith('#!') ? line.slice(2).trim().split(/\s+/) : [];
  const node = words.findIndex((w) => /(^|\/)node$/.test(w));
  const env: Record<string, string> = {};
  for (const w of words.slice(0, Math.max(0, node))) {
    const eq = w.indexOf('=');
    if (eq > 0) env[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return { env, nodeArgs: node < 0 ? [] : words.slice(node + 1) };
}

/**
 * The harness's environment for a child, less what belongs to the machine the harness runs on rather than to
 * a collector as it ships: a shell's NODE_EXTRA_CA_CERTS (this workplace sets it to the system bundle, which
 * every TLS context then parses again: ~0.8 MiB of an idle collector's memory that no image has). A run that
 * needs a CA passes it in `options.env`.
 */
function harnessEnv(): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _machines, ...env } = process.env;
  return env;
}

/** Runs `node <shebang flags> --import usage-probe script args` and reports wall time, CPU time and peak RSS. */
export function runNode(script: string, args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const launch = shebangLaunch(script);
    const child = spawn(process.execPath, [...launch.nodeArgs, ...(options.nodeArgs ?? []), '--import', probe, script, ...args], {
      cwd: options.cwd,
      env: { ...harnessEnv(), ...launch.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    options.onSpawn?.(child.pid);
    options.onChild?.(child);
    let killedAtMs: number | undefined;
    let killArmed = false;
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null && killedAtMs === undefined) killedAtMs = performance.now() - started;
      child.kill('SIGKILL');
    };
    const poller = options.killCheck
      ? setInterval(() => {
          if (options.killCheck!(performance.now() - started)) kill();
        }, 5)
      : undefined;
    const timers = [options.killAfterMs !== undefined ? setTimeout(kill, options.killAfterMs) : undefined, setTimeout(kill, options.timeoutMs ?? 600_000)];
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      stdout += text;
      if (killArmed || !options.killWhen) return;
      const verdict = options.killWhen(text, performance.now() - started);
      if (verdict === true) kill();
      else if (typeof verdict === 'number' && verdict !== 0 && verdict > 0) {
        killArmed = true;
        setTimeout(kill, verdict);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      for (const t of timers) if (t) clearTimeout(t);
      if (poller) clearInterval(poller);
      const usage = /BENCH_USAGE (\{.*\})/.exec(stderr);
      const parsed = usage ? (JSON.parse(usage[1]!) as { userMs: number; systemMs: number; maxRssKb: number }) : undefined;
      resolve({
        code,
        signal,
        wallMs: performance.now() - started,
        cpuMs: parsed ? parsed.userMs + parsed.systemMs : Number.NaN,
        maxRssKb: parsed?.maxRssKb ?? Number.NaN,
        stdout,
        stderr,
        killedAtMs,
      });
    });
  });
}
