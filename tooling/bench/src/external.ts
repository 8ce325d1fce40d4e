import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/paths.js';

export interface ExternalBench {
  title: string;
  status: string;
}

/**
 * The other engineers' benchmark scripts (not owned here): run as they document them, each writing its own
 * REPORT.md, and linked from docs/benchmarks.md with the outcome of this run.
 */
const SCRIPTS = [
  {
    title: 'AWS SQS collector (SQS → S3 → gunzip → split → queue → delete, against moto), by the AWS engineer',
    script: 'tooling/bench/aws-sqs/bench.ts',
    args: ['150', '10'],
    report: 'tooling/bench/aws-sqs/REPORT.md',
  },
  {
    title: 'Delivery alone, rerun in this session',
    script: 'tooling/bench/delivery/bench.ts',
    args: ['300000'],
    report: 'tooling/bench/delivery/REPORT.md',
  },
];

function run(cmd: string, args: string[]): Promise<{ code: number | null; tail: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-2000)));
    child.stderr.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 900_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, tail: text });
    });
  });
}

export async function runExternalBenches(log: (line: string) => void): Promise<ExternalBench[]> {
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const results: ExternalBench[] = [];
  for (const s of SCRIPTS) {
    const link = `[\`${s.report}\`](../${s.report})`;
    if (!existsSync(join(REPO_ROOT, s.script))) {
      results.push({ title: s.title, status: `${link} (script \`${s.script}\` not present; not run)` });
      continue;
    }
    log(`running ${s.script} ${s.args.join(' ')}`);
    const started = performance.now();
    const r = await run(tsx, [s.script, ...s.args]);
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    results.push({
      title: s.title,
      status: r.code === 0
        ? `${link}, refreshed by this run (\`npx tsx ${s.script} ${s.args.join(' ')}\`, ${seconds} s)`
        : `${link}; **rerun in this session failed** (exit ${r.code}): \`${r.tail.trim().split('\n').pop()?.slice(0, 200) ?? ''}\``,
    });
  }
  return results;
}
