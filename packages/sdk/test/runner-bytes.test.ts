import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectorRuntime } from '@collector/sdk/host';
import { devoOutputConfig, startRsyslog, type Rsyslog } from '@collector/testkit';
import { exampleCollector, exampleTag, startExampleApi, type ExampleEvent } from './example-input.js';

// The runner queues a pull's events as UTF-8 bytes, one buffer per batch (reused once acknowledged), and
// hands them to the Devo output as EncodedBatch (one per run of one tag): what reaches a real rsyslog is
// every event once, under its own tag, each message exactly the JSON text the string path made.

let rsyslog: Rsyslog;
beforeAll(async () => {
  rsyslog = await startRsyslog();
});
afterAll(async () => {
  await rsyslog?.stop();
});

const TAG = 'my.app.example.events';
const OTHER = 'my.app.example.other';
const LINE = /^<14>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \S+ (\S+): (.*)$/s;

describe('the runner queues events as bytes', () => {
  it.each([
    ['one tag', undefined],
    ['runs of two tags in every batch', [TAG, OTHER]],
  ] as const)('delivers every event once to rsyslog, under its tag, byte for byte as its JSON text (%s)', async (_name, tags) => {
    const start = Date.now() - 3 * 3_600_000;
    // Non-ASCII text and escapes, and sizes that make batches outgrow their first buffer.
    const events = Array.from({ length: 5000 }, (_, i): ExampleEvent & { note: string } => ({ id: `b${i}`, t: start + i * 2000, note: i % 11 === 0 ? 'é ✓ 😀 "q" \\ \u2028' : 'x'.repeat((i * 37) % 900) }));
    const api = await startExampleApi(events);
    try {
      const workDir = mkdtempSync(join(tmpdir(), 'runner-bytes-'));
      const outputs = devoOutputConfig(rsyslog) as Record<string, { config: Record<string, unknown> }>;
      const config = {
        globals: { http_server: { enabled: false } },
        outputs,
        inputs: { example: { id: 5, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: api.url, page_size: 10, ...(tags ? { page_tags: tags } : {}) } } } },
      };
      const from = rsyslog.lines().length;
      const summary = await new CollectorRuntime(exampleCollector, { workDir, config, logStream: new PassThrough() }).runOnce();
      expect(summary.ok).toBe(true);
      const ours = (lines: string[]) => lines.filter((l) => / my\.app\.example\./.test(l));
      await expect.poll(() => ours(rsyslog.lines().slice(from)).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(events.length);
      const received = ours(rsyslog.lines().slice(from)).map((line) => {
        const [, tag, message] = LINE.exec(line)!;
        return { tag: tag!, message: message! };
      });
      const pullingId = (JSON.parse(received[0]!.message) as { '@devo_pulling_id': string })['@devo_pulling_id'];
      expect(received).toEqual(events.map((e) => ({ tag: tags ? exampleTag(tags, e) : TAG, message: JSON.stringify({ ...e, '@devo_pulling_id': pullingId }) })));
    } finally {
      await api.close();
    }
  });
});
