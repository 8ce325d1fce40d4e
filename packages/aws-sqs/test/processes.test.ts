import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appMain, devoOutputConfig, ensureBuilt, startMoto, startRsyslog, type MotoServer, type Rsyslog } from '@collector/testkit';
import { bucketWithQueue, cloudTrailFile, eventLines, FAST_RECONNECT, putObject, queueDepth, sqsConfig, SECRET_KEY, workDir } from './helpers.js';

const main = appMain('aws-sqs');

let moto: MotoServer;
let rsyslog: Rsyslog;
beforeAll(async () => {
  ensureBuilt(['packages/sdk', 'packages/aws-sqs', 'apps/aws-sqs']);
  [moto, rsyslog] = await Promise.all([startMoto(), startRsyslog()]);
}, 180_000);
afterAll(async () => {
  await Promise.all([moto?.stop(), rsyslog?.stop()]);
});

function runProcess(dir: string, args: string[], onStart?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    onStart?.(child);
  });
}

function writeConfig(config: Record<string, unknown>): string {
  const dir = workDir();
  mkdirSync(join(dir, 'config'));
  // JSON is YAML. A config needs an output: the console when the test names none.
  writeFileSync(join(dir, 'config', 'config.yaml'), JSON.stringify({ outputs: { console_1: { type: 'console' } }, ...config }, null, 2));
  return dir;
}

describe('the aws-sqs-collector executable', () => {
  it('--validate checks the config without touching the network', async () => {
    const good = writeConfig(sqsConfig(moto, { aws_sqs_cloudtrail: { base_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', endpoint_url: 'http://127.0.0.1:1' } }));
    const ok = await runProcess(good, ['--validate']);
    expect(ok.code).toBe(0);
    const bad = writeConfig(sqsConfig(moto, { aws_sqs_cloudtrail: { base_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', sqs_visibility_timeout: 60 } }));
    const failed = await runProcess(bad, ['--validate']);
    expect(failed.code).toBe(2);
    expect(failed.stdout + failed.stderr).toContain('InitVariablesError 3: sqs_visibility_timeout <60> must be between 120 and 43200 seconds (inputs.sqs_collector.services.aws_sqs_cloudtrail.sqs_visibility_timeout)');
  });

  it('--check probes every listed queue and prints the remedy of what fails', async () => {
    const { queueUrl } = await bucketWithQueue(moto, 'check-bucket');
    const config = sqsConfig(moto, { aws_sqs_cloudtrail: { base_url: queueUrl }, aws_sqs_vpc: { base_url: `${moto.endpoint}/123456789012/no-such-queue` } });
    const result = await runProcess(writeConfig(config), ['--check']);
    const text = result.stdout + result.stderr;
    expect(result.code).toBe(1);
    expect(text).toMatch(/\[ OK \][^\n]*aws_sqs_cloudtrail/);
    expect(text).toMatch(/\[FAIL\][^\n]*aws_sqs_vpc[^\n]*PullError 300: The queue <[^>]*no-such-queue> does not exist/);
    expect(text).toContain('Check base_url: the queue does not exist in this account and region');
    expect(text).not.toContain(SECRET_KEY);
  });

  it('two collector processes on one queue deliver every event exactly once', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(moto, 'multipod-bucket');
    const expected: string[] = [];
    for (let f = 0; f < 24; f++) {
      const file = cloudTrailFile(`pod${f}`, 40 + f);
      expected.push(...file.ids);
      await putObject(moto, bucket, `AWSLogs/1/CloudTrail/us-east-1/2024/01/01/pod-${f}.json.gz`, file.body);
    }
    const outputs: Record<string, { config: object }> = devoOutputConfig(rsyslog);
    Object.assign(outputs['devo_1']!.config, FAST_RECONNECT);
    const config = { ...sqsConfig(moto, { aws_sqs_cloudtrail: { base_url: queueUrl, sqs_max_messages: 1, max_messages_in_flight: 2 } }), outputs };
    const from = rsyslog.lines().length;
    const [a, b] = await Promise.all([runProcess(writeConfig(config), ['--once']), runProcess(writeConfig(config), ['--once'])]);
    expect(a.code, a.stderr + a.stdout.slice(-2000)).toBe(0);
    expect(b.code, b.stderr + b.stdout.slice(-2000)).toBe(0);
    let received = eventLines(rsyslog.lines().slice(from));
    const deadline = Date.now() + 10_000;
    while (received.length < expected.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      received = eventLines(rsyslog.lines().slice(from));
    }
    const ids = received.map((l) => String(l.event['eventID']));
    // A duplicate means a message was received twice: the processes' warnings say why (seen once, under a load of 10).
    const warnings = `${a.stdout}\n${a.stderr}\n${b.stdout}\n${b.stderr}`.split('\n').filter((l) => /WARNING|ERROR/.test(l));
    expect(ids.length, warnings.join('\n')).toBe(expected.length);
    expect([...new Set(ids)].sort()).toEqual([...expected].sort());
    expect(await queueDepth(moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(a.stdout + b.stdout).not.toContain(SECRET_KEY);
  });

  it('SIGTERM in the middle of large objects: exit 0, nothing lost, the rest is collected by the next run', async () => {
    const { bucket, queueUrl } = await bucketWithQueue(moto, 'sigterm-bucket');
    const expected: string[] = [];
    for (let f = 0; f < 4; f++) {
      const file = cloudTrailFile(`term${f}`, 15_000);
      expected.push(...file.ids);
      await putObject(moto, bucket, `AWSLogs/1/CloudTrail/us-east-1/2024/01/01/term-${f}.json.gz`, file.body);
    }
    const outputs: Record<string, { config: object }> = devoOutputConfig(rsyslog);
    Object.assign(outputs['devo_1']!.config, FAST_RECONNECT);
    const config = { ...sqsConfig(moto, { aws_sqs_cloudtrail: { base_url: queueUrl, max_messages_in_flight: 2, events_per_batch: 200 } }), outputs };
    const from = rsyslog.lines().length;
    const daemon = await runProcess(writeConfig(config), [], (child) => {
      const timer = setInterval(() => {
        // Stop once events are flowing, well before all 60,000 are sent.
        if (rsyslog.lines().length - from > 2_000) {
          clearInterval(timer);
          child.kill('SIGTERM');
        }
      }, 20);
    });
    expect(daemon.code, daemon.stderr).toBe(0);
    expect(daemon.stdout).toContain('Stop requested');
    // The messages being read were handed back to the queue at once, not left to their visibility timeout.
    expect(daemon.stdout).toMatch(/Message \S+ released to the queue/);
    const firstRun = eventLines(rsyslog.lines().slice(from)).map((l) => String(l.event['eventID']));
    expect(firstRun.length).toBeLessThan(expected.length);
    const second = await runProcess(writeConfig(config), ['--once']);
    expect(second.code, second.stderr).toBe(0);
    let all: string[] = [];
    const deadline = Date.now() + 10_000;
    do {
      await new Promise((r) => setTimeout(r, 50));
      all = eventLines(rsyslog.lines().slice(from)).map((l) => String(l.event['eventID']));
    } while (new Set(all).size < expected.length && Date.now() < deadline);
    // At least once: every event arrived; repeats only from messages stopped half-way.
    expect([...new Set(all)].sort()).toEqual([...expected].sort());
    expect(all.length - expected.length).toBeLessThanOrEqual(2 * 15_000);
    expect(await queueDepth(moto, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});
