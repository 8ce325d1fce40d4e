import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/paths.js';

export interface ExternalBench {
  title: string;
  status: string;
  /** The report this session's run produced (the owner's REPORT.md is restored afterwards). */
  report?: string;
}

/**
 * The other engineers' benchmark scripts (not owned here): run as they document them. Each writes its own
 * REPORT.md; that file belongs to its owner (it carries hand-written history), so it is restored after the
 * run and this session's report is copied into docs/benchmarks.md instead.
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
    const reportFile = join(REPO_ROOT, s.report);
    const original = existsSync(reportFile) ? readFileSync(reportFile) : undefined;
    const started = performance.now();
    const r = await run(tsx, [s.script, ...s.args]);
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    const produced = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : undefined;
    if (original) writeFileSync(reportFile, original);
    results.push({
      title: s.title,
      status: r.code === 0
        ? `${link}; rerun in this session (\`npx tsx ${s.script} ${s.args.join(' ')}\`, ${seconds} s), output below`
        : `${link}; **rerun in this session failed** (exit ${r.code}): \`${r.tail.trim().split('\n').pop()?.slice(0, 200) ?? ''}\``,
      ...(r.code === 0 && produced ? { report: produced } : {}),
    });
  }
  return results;
}
