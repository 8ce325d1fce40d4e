import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CollectorRuntime, stateFileName } from '@collector/sdk/host';
import { CapturingOutput } from '@collector/testkit';
import { exampleCollector, startExampleApi } from './example-input.js';

const HOUR = 3_600_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('disk full while writing state', () => {
  it('reports PersistenceError 503, commits nothing, and loses nothing once space is back', async () => {
    // A real full filesystem: a 64 KiB tmpfs (the tests run as root, as CI does).
    const workDir = mkdtempSync(join(tmpdir(), 'diskfull-'));
    const stateDir = join(workDir, 'state');
    mkdirSync(stateDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', stateDir]);
    cleanups.push(() => void execFileSync('umount', [stateDir]));

    const start = Date.now() - 3 * HOUR;
    const api = await startExampleApi(Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, t: start + i * 60_000 })));
    cleanups.push(api.close);
    const config = { inputs: { example: { id: 9, credentials: { token: 'good-token' }, services: { events: { start_time: new Date(start).toISOString(), override_base_url: api.url } } } } };
    const run = async () => {
      const out = new CapturingOutput();
      const summary = await new CollectorRuntime(exampleCollector, { workDir, config, outputs: [out], logStream: new PassThrough() }).runOnce();
      return { out, summary };
    };

    const first = await run();
    expect(first.summary.ok).toBe(true);
    const file = join(stateDir, stateFileName('example;9;events'));
    const committed = JSON.parse(readFileSync(file, 'utf8')).checkpoint as number;

    // New events arrive, and the disk fills up.
    // (after the committed checkpoint, and at least the SDK's 1 s minimum window in the past)
    for (let i = 0; i < 5; i++) api.events.push({ id: `b${i}`, t: committed + i * 10 });
    await new Promise((r) => setTimeout(r, 1100));
    writeFileSync(join(stateDir, 'filler'), Buffer.alloc(0));
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(stateDir, 'filler')}`, 'bs=1k', 'count=200'], { stdio: 'ignore' });
    } catch {
      // dd fails with ENOSPC once the filesystem is full: that is the point.
    }
    const second = await run();
    expect(second.summary.ok).toBe(false);
    expect(second.summary.errors.join('\n')).toMatch(/PersistenceError 503: Cannot write the state file .*ENOSPC/);
    expect(second.out.ids()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(JSON.parse(readFileSync(file, 'utf8')).checkpoint).toBe(committed);

    // Space comes back: the uncommitted events are delivered again (never lost) and committed.
    rmSync(join(stateDir, 'filler'));
    const third = await run();
    expect(third.summary.ok).toBe(true);
    expect(third.out.ids()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(JSON.parse(readFileSync(file, 'utf8')).checkpoint).toBeGreaterThan(committed);
  });
});
