import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '@collector/aws-sqs';
import { bucketWithQueue, putObject, queueDepth, realPeers, type ReceivedLine, runOnce, sqsConfig, workDir } from './helpers.js';
import { SAMPLES, type Sample } from './samples.js';

const peers = realPeers();

/** A received line matches an expected event: JSON fields as a subset, or a text line by its start (`line`). */
function matches(line: ReceivedLine, expected: Record<string, unknown>): boolean {
  if (typeof expected['line'] === 'string') return line.message.startsWith(expected['line']);
  try {
    expect(line.event).toMatchObject(expected);
    return true;
  } catch {
    return false;
  }
}

describe("Devo's catalogue: every service, a real-format object announced by a real S3 notification, through TLS", () => {
  it('covers every declared service but the generic ones (tested elsewhere)', () => {
    const tested = new Set(SAMPLES.map((s) => s.service));
    const generic = ['aws_sqs_json', 'aws_sqs_text', 'custom_service', 'aws_sqs_control_tower'];
    expect(Object.keys(CATALOGUE).filter((name) => !tested.has(name) && !generic.includes(name))).toEqual([]);
  });

  it('each object arrives as one event per record with its format field names, in its Devo table; skipped objects send nothing', async () => {
    const queues: Record<string, string> = {};
    for (const sample of SAMPLES) {
      const { bucket, queueUrl } = await bucketWithQueue(peers.moto, sample.service.replace(/_/g, '-'));
      queues[sample.service] = queueUrl;
      if (sample.skipped) await putObject(peers.moto, bucket, sample.skipped.key, sample.skipped.body);
      await putObject(peers.moto, bucket, sample.key, sample.body, sample.gzip !== false);
    }
    const services = Object.fromEntries(SAMPLES.map((s) => [s.service, { base_url: queues[s.service] }]));
    const run = await runOnce(workDir(), sqsConfig(peers.moto, services), peers.rsyslog);
    expect(run.summary.errors).toEqual([]);

    const byTag = new Map<string, Sample[]>();
    for (const s of SAMPLES) byTag.set(s.tag, [...(byTag.get(s.tag) ?? []), s]);
    for (const [tag, samples] of byTag) {
      const lines = run.received.filter((l) => l.tag === tag);
      // Exactly one event per record: the count of everything the services sharing this table expect.
      expect(lines.length, tag).toBe(samples.reduce((n, s) => n + s.expect.length, 0));
      for (const sample of samples) {
        for (const expected of sample.expect) expect(lines.some((l) => matches(l, expected)), `${sample.service}: ${JSON.stringify(expected)}`).toBe(true);
      }
    }
    // Nothing else arrived (no unknown table, no skipped object's content).
    expect(run.received.filter((l) => !byTag.has(l.tag)).map((l) => l.tag)).toEqual([]);
    expect(run.logs).toMatch(/skipped objects 1/);
    for (const [service, queueUrl] of Object.entries(queues)) expect(await queueDepth(peers.moto, queueUrl), service).toEqual({ visible: 0, inFlight: 0 });
  });
});
