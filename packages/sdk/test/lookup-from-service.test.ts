import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CollectorRuntime, defineCollector, defineInput, defineService } from '@collector/sdk';
import { CapturingOutput } from '@collector/testkit';

// A service that publishes a lookup table (e.g. a vendor's asset list) from inside its pull.
const lookupCollector = defineCollector({
  name: 'lookup_collector',
  version: '0.0.1',
  inputs: [
    defineInput({
      name: 'assets',
      async setup() {
        return {};
      },
      services: {
        hosts: defineService({
          tag: 'my.app.assets.hosts',
          stateless: true,
          async *pull(ctx) {
            await ctx.publishLookup({ name: 'Hosts', headers: ['host', { name: 'score', type: 'int' }], key: 'host', action: 'FULL', rows: [['web-1', 7], ['db "main"', 9]], delayMs: 0, lookupId: '1715000000.1' });
            yield { events: [] };
          },
        }),
      },
    }),
  ],
});

describe('ctx.publishLookup', () => {
  it('sends START, the data lines and END of Devo lookup protocol through the outputs', async () => {
    const out = new CapturingOutput();
    const runtime = new CollectorRuntime(lookupCollector, {
      workDir: mkdtempSync(join(tmpdir(), 'lookup-')),
      config: { globals: { http_server: { enabled: false } }, inputs: { assets: { id: 1 } } },
      outputs: [out],
      logStream: new PassThrough(),
    });
    const summary = await runtime.runOnce();
    expect(summary.ok).toBe(true);
    const headers = '[{"host":{"type":"str","key":true}},{"score":{"type":"int"}}]';
    expect(out.records.map((r) => `${r.tag}: ${r.message}`)).toEqual([
      `my.lookup.control.Hosts.FULL: 1715000000.1_Hosts|START|${headers}`,
      'my.lookup.data.Hosts: 1715000000.1_Hosts|"web-1",7',
      'my.lookup.data.Hosts: 1715000000.1_Hosts|"db ""main""",9',
      `my.lookup.control.Hosts.FULL: 1715000000.1_Hosts|END|${headers}`,
    ]);
  });
});
