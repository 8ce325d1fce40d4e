import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EncodedBatch } from '@collector/sdk';
import { createOutputs, DeliveryPipeline, silentLogger, type DeliveryRecord, type Output, type OutputConfig } from '@collector/sdk/host';
import { devoOutputConfig, type Rsyslog } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';

// Events handed to the delivery as bytes (EncodedBatch): the lines at a real rsyslog are those of the same
// messages as strings, and every guarantee of records holds (slicing, acknowledgement, emergency
// persistence, outputs that take strings only; a receiver killed mid-stream: delivery-rsyslog.test.ts).

const HOST = 'testhost';
const TAG = 'my.app.test.encoded';
const FAST = { connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 };
/** Messages that exercise the framing: UTF-8, escapes, line breaks inside and at the end. */
const AWKWARD = ['{"a":1,"s":"é ü ✓ 😀","p":"/x\\\\y"}', 'tab\there "quotes" \\ back', 'line1\nline2\nline3', 'ends with newline é\n', '{"n":"\\n is not a break"}', 'last'];

function outputsFor(r: Rsyslog, workDir = mkdtempSync(join(tmpdir(), 'encoded-'))): Output[] {
  const block = devoOutputConfig(r) as Record<string, OutputConfig>;
  Object.assign(block['devo_1']!.config, FAST);
  return createOutputs(block, { workDir, log: silentLogger, hostname: HOST });
}

/** A line without its syslog date (an EncodedBatch's header carries the send time). */
const undated = (line: string) => line.replace(/^<14>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} /, '<14>DATE ');

/** An output that takes strings only, as a library user's would. */
class MemoryOutput implements Output {
  readonly type = 'memory';
  readonly name = 'memory';
  readonly records: DeliveryRecord[] = [];
  async start(): Promise<void> {}
  async write(records: readonly DeliveryRecord[]): Promise<void> {
    this.records.push(...records);
  }
  ready(): boolean {
    return true;
  }
  async stop(): Promise<void> {}
}

const rsyslog = useRsyslog();

describe('EncodedBatch', () => {
  it('slices share the bytes and decode to the messages', () => {
    const messages = [...AWKWARD, '', '\n'];
    const batch = EncodedBatch.from(TAG, messages);
    expect(batch.length).toBe(messages.length);
    expect(batch.byteLength).toBe(Buffer.byteLength(messages.join('')));
    expect(batch.records()).toEqual(messages.map((message) => ({ tag: TAG, message })));
    const middle = batch.slice(2, 7);
    expect(middle.bytes).toBe(batch.bytes);
    expect(middle.records().map((r) => r.message)).toEqual(messages.slice(2, 7));
    expect(middle.slice(1).records().map((r) => r.message)).toEqual(messages.slice(3, 7));
  });

  it('reaches rsyslog as the same lines as the same messages as strings, mixed with records, sliced into several writes', async () => {
    const pipeline = new DeliveryPipeline(outputsFor(rsyslog), { statsPeriodMs: 0, batchSize: 3 });
    await pipeline.start();
    let from = rsyslog.lines().length;
    const records = AWKWARD.map((message) => ({ tag: TAG, message }));
    await (await pipeline.submit(records)).delivered;
    await rsyslog.waitForLines(from + AWKWARD.length);
    const asStrings = rsyslog.lines().slice(from).map(undated);
    expect(asStrings).toHaveLength(AWKWARD.length);

    from = rsyslog.lines().length;
    const mixed = [pipeline.submit(EncodedBatch.from(TAG, AWKWARD)), pipeline.submit(records), pipeline.submit(EncodedBatch.from('my.app.test.other', ['x', 'y\nz']))];
    await Promise.all((await Promise.all(mixed)).map((s) => s.delivered));
    await pipeline.stop();
    await rsyslog.waitForLines(from + 2 * AWKWARD.length + 2);
    const lines = rsyslog.lines().slice(from).map(undated);
    expect(lines).toEqual([...asStrings, ...asStrings, '<14>DATE testhost my.app.test.other: x', '<14>DATE testhost my.app.test.other: y\nz\n']);
  });

  it('an invalid tag is OutputError 601 at submit; the queue counts the bytes', async () => {
    const pipeline = new DeliveryPipeline([new MemoryOutput()], { statsPeriodMs: 0 });
    await expect(pipeline.submit(EncodedBatch.from('single', ['x']))).rejects.toMatchObject({ id: 601 });
    // Not started: the submission stays queued, counted by its bytes plus the tag and header per event.
    const batch = EncodedBatch.from(TAG, ['é', 'abc']);
    await pipeline.submit(batch);
    expect(pipeline.queueSize).toEqual({ messages: 2, bytes: 5 + 2 * (TAG.length + 40) });
  });

  it('an output that takes strings gets the events decoded, in order, with their tag', async () => {
    const memory = new MemoryOutput();
    const pipeline = new DeliveryPipeline([memory], { statsPeriodMs: 0, batchSize: 2 });
    await pipeline.start();
    const first = await pipeline.submit(EncodedBatch.from(TAG, AWKWARD));
    const second = await pipeline.submit([{ tag: 'my.app.test.other', message: 'after' }]);
    await Promise.all([first.delivered, second.delivered]);
    await pipeline.stop();
    expect(memory.records).toEqual([...AWKWARD.map((message) => ({ tag: TAG, message })), { tag: 'my.app.test.other', message: 'after' }]);
  });

  it('several EncodedBatch (one per tag) are one submission: one acknowledgement, every event in order under its tag', async () => {
    const memory = new MemoryOutput();
    const pipeline = new DeliveryPipeline([memory], { statsPeriodMs: 0 });
    await pipeline.start();
    const parts = [EncodedBatch.from(TAG, ['a1', 'a2']), EncodedBatch.from('my.app.test.other', ['b1']), EncodedBatch.from(TAG, ['a3'])];
    pipeline.prepare(parts);
    const { delivered } = await pipeline.submit(parts);
    await delivered;
    await pipeline.stop();
    expect(memory.records).toEqual([
      { tag: TAG, message: 'a1' },
      { tag: TAG, message: 'a2' },
      { tag: 'my.app.test.other', message: 'b1' },
      { tag: TAG, message: 'a3' },
    ]);
  });

  it('emergency persistence: on stop with the receiver down, encoded events go to state/ as records and are sent first at the next start', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'encoded-emergency-'));
    const emergencyDir = join(workDir, 'state', 'delivery');
    await rsyslog.stop();
    try {
      const first = new DeliveryPipeline(outputsFor(rsyslog, workDir), { statsPeriodMs: 0, emergencyDir, log: silentLogger });
      await first.start();
      const { delivered } = await first.submit(EncodedBatch.from(TAG, ['kept 1', 'kept\n2']));
      expect(await first.drain(5_000, 300)).toBe(false);
      await first.stop();
      await delivered; // acknowledged by the emergency persistence
      const files = readdirSync(emergencyDir).filter((f) => f.endsWith('.jsonl'));
      expect(files).toHaveLength(1);
      expect(readFileSync(join(emergencyDir, files[0]!), 'utf8')).toContain('kept\\n2');
    } finally {
      await rsyslog.restart();
    }
    const from = rsyslog.lines().length;
    const second = new DeliveryPipeline(outputsFor(rsyslog, workDir), { statsPeriodMs: 0, emergencyDir, log: silentLogger });
    await second.start();
    await rsyslog.waitForLines(from + 2);
    expect(await second.drain(5_000)).toBe(true);
    await second.stop();
    expect(rsyslog.lines().slice(from).map(undated)).toEqual([`<14>DATE testhost ${TAG}: kept 1`, `<14>DATE testhost ${TAG}: kept\n2\n`]);
    expect(existsSync(emergencyDir) ? readdirSync(emergencyDir).filter((f) => f.endsWith('.jsonl')) : []).toEqual([]);
  });
});
