// Gzip bombs for the AWS SQS collector: small S3 objects that inflate to gigabytes. The built app runs in
// its own process with a 128 MB heap: it must stay up (no OOM), report a documented error line and keep its
// memory bounded. Runs in CI; no timing is asserted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type MotoServer } from '@collector/testkit';
import { appMain } from '../src/lib/paths.js';
import { runNode } from '../src/lib/run-child.js';
import { bucketWithQueue, putObject, sqsConfig } from '../../../packages/aws-sqs/test/helpers.js';
import { ERROR_LINE, newWorkDir } from './helpers.js';

const MIB = 2 ** 20;
/** Inflated size of each bomb: far over any sane record, small enough to inflate in a second or two. */
const BOMB_BYTES = Number(process.env['BENCH_BOMB_MIB'] ?? 512) * MIB;

/** `total` bytes of `fill` as concatenated gzip members of 64 MiB each (about 64 KiB compressed each). */
function bomb(prefix: string, fill: number, total: number, suffix = ''): Buffer {
  const chunk = 64 * 2 ** 20;
  const member = gzipSync(Buffer.alloc(chunk, fill), { level: 9 });
  const members = [gzipSync(Buffer.from(prefix)), ...Array.from({ length: Math.ceil(total / chunk) }, () => member), gzipSync(Buffer.from(suffix))];
  return Buffer.concat(members);
}

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

const app = appMain('aws-sqs');

/**
 * Each bomb inflates one record (a line, a JSON record) far past the decoders' 16 MiB bound: the object is
 * refused as unreadable (PullError 311) before it is held whole, and the message stays on the queue for its
 * retries and then the dead-letter queue.
 */
const CASES = [
  ['aws_sqs_text', 'one 512 MiB line of zeros', () => bomb('', 0x30, BOMB_BYTES)],
  ['aws_sqs_cloudtrail', 'a CloudTrail record with a 512 MiB string', () => bomb('{"Records":[{"eventID":"bomb","x":"', 0x61, BOMB_BYTES, '"}]}')],
] as const;

async function explode(service: string, make: () => Buffer): Promise<void> {
  const name = `bomb-${service.replace(/_/g, '-')}-${Math.floor(Math.random() * 1e6)}`;
  const { bucket, queueUrl } = await bucketWithQueue(moto, name);
  const body = make();
  expect(body.length).toBeLessThan(4 * MIB);
  await putObject(moto, bucket, 'AWSLogs/bomb.gz', body, false);
  const dir = newWorkDir('aws-bomb');
  mkdirSync(join(dir, 'config'), { recursive: true });
  const config = sqsConfig(moto, { [service]: { base_url: queueUrl } }) as Record<string, unknown>;
  // Events go to the console (no receiver needed: a bomb must never become events).
  config['outputs'] = { console_1: { type: 'console', config: {} } };
  writeFileSync(join(dir, 'config', 'config.yaml'), JSON.stringify(config));
  // A hang guard, not a timing: a bomb inflates in ~2 s on an idle machine, and took 9.8 s once on a loaded one
  // (load average 10 on 2 cores), where a 12 s guard killed a run that was about to exit cleanly.
  const run = await runNode(app, ['--once', '--config', join(dir, 'config', 'config.yaml')], { cwd: dir, env: { NODE_OPTIONS: '--max-old-space-size=128' }, timeoutMs: 40_000 });
  const out = run.stdout + run.stderr;
  expect(run.signal, out.slice(-2000)).toBeNull();
  expect(out).not.toMatch(/heap out of memory|FATAL ERROR|Fatal error|Allocation failed/);
  expect([0, 1], out.slice(-2000)).toContain(run.code);
  expect(out).toMatch(ERROR_LINE);
  expect(out).toMatch(/PullError 311: Cannot read .*a record larger than 16777216 bytes/);
  expect(run.maxRssKb / 1024).toBeLessThan(400);
}

describe('aws-sqs: gzip bombs (built app, 128 MB heap; pnpm test builds it first)', () => {
  it.each(CASES)('%s: %s → documented error, no crash, bounded memory', (service, _label, make) => explode(service, make), 60_000);
});
