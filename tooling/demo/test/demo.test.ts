import { describe, expect, it } from 'vitest';
import { runDemo, scenarios } from '@collector/demo';
import { VENDOR_NAMES } from '@collector/testkit';

describe('runDemo', () => {
  it('runs every collector against its simulator and the TLS receiver; each expected event arrives once', async () => {
    const result = await runDemo({ scale: 0.1, receiver: 'node', out: null, deadlineMs: 50_000 });
    // All five run: AWS on moto, or on the demo's own mini S3/SQS when moto is missing.
    expect(result.collectors.map((c) => [c.vendor, c.status, c.errors])).toEqual(scenarios.map((s) => [s.vendor, 'ok', []]));
    for (const t of result.tags) expect({ tag: t.tag, arrived: t.arrived }).toEqual({ tag: t.tag, arrived: t.expected });
    expect(result.tags.every((t) => t.arrived > 0)).toBe(true);
    // The collectors' own logs travel over the same TLS connection, as in Devo.
    expect([...result.internalTags.keys()]).toContain('devo.collectors.out.local.info');
    expect(result.ok).toBe(true);
    expect(scenarios.map((s) => s.vendor)).toEqual(VENDOR_NAMES);
  }, 90_000);

  it('without moto, aws-sqs runs on the demo\'s own mini S3/SQS/STS through the real AWS SDK', async () => {
    process.env['DEMO_AWS'] = 'mini';
    try {
      const aws = scenarios.filter((s) => s.vendor === 'aws-sqs');
      const result = await runDemo({ scenarios: aws, scale: 0.2, receiver: 'node', out: null, deadlineMs: 30_000 });
      expect(result.collectors[0]).toMatchObject({ vendor: 'aws-sqs', status: 'ok', errors: [], note: expect.stringContaining('mini') });
      expect(result.tags).toEqual([{ tag: 'cloud.aws.cloudtrail.events', collector: 'aws-sqs', expected: 200, arrived: 200 }]);
      expect(result.ok).toBe(true);
    } finally {
      delete process.env['DEMO_AWS'];
    }
  }, 60_000);
});
