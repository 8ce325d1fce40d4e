import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const probe = fileURLToPath(new URL('./usage-probe.js', import.meta.url));

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Called with each chunk of stdout; return true to SIGKILL the child at that point. */
  killWhen?: (chunk: string, elapsedMs: number) => boolean;
  /** SIGKILL after this many ms. */
  killAfterMs?: number;
  timeoutMs?: number;
}

/** Runs `node --import usage-probe script args` and reports wall time, CPU time and peak RSS. */
export function runNode(script: string, args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', probe, script, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const kill = () => child.kill('SIGKILL');
    const timers = [options.killAfterMs !== undefined ? setTimeout(kill, options.killAfterMs) : undefined, setTimeout(kill, options.timeoutMs ?? 600_000)];
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      stdout += text;
      if (options.killWhen?.(text, performance.now() - started)) kill();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      for (const t of timers) if (t) clearTimeout(t);
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
      });
    });
  });
}
