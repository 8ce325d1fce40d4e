import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@collector/testkit';

// A collector pays for the modules it loads (resident memory and start-up CPU, docs/benchmarks.md): ioredis is
// loaded only when the persistence is Redis. Each case runs in a fresh process, whose CommonJS cache tells
// which packages were loaded.
const host = fileURLToPath(new URL('../src/host.ts', import.meta.url));

function loadedAfter(body: string): { loaded: string[]; output: string } {
  const script = `
    import { createRequire } from 'node:module';
    const sdk = await import(${JSON.stringify(host)});
    ${body}
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /[\\\\/]node_modules[\\\\/](ioredis)[\\\\/]/.test(p));
    console.log('LOADED ' + JSON.stringify([...new Set(loaded.map((p) => /node_modules[\\\\/](ioredis)[\\\\/]/.exec(p)[1]))]));`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  const line = /LOADED (.*)/.exec(run.stdout)?.[1];
  if (!line) throw new Error(`child failed (${run.status}): ${run.stderr.slice(-1500)}`);
  return { loaded: JSON.parse(line) as string[], output: run.stdout };
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('modules a collector does not use are not loaded', () => {
  it('filesystem persistence (state and acknowledgement journal) never loads ioredis', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lazy-fs-'));
    const { loaded, output } = loadedAfter(`
      const globals = { name: 'lazy', id: '1', persistence: { type: 'filesystem', config: { directory_name: ${JSON.stringify(dir)} } } };
      const store = new sdk.FilesystemStateStore(${JSON.stringify(dir)});
      const journal = sdk.createAckJournal(globals, ${JSON.stringify(dir)});
      await store.save('lazy;1;svc', { checkpoint: 42 });
      await journal.append('lazy;1;svc', ['k1']);
      console.log('STATE ' + JSON.stringify(await store.load('lazy;1;svc')) + ' ' + JSON.stringify(await journal.read('lazy;1;svc')));
      await journal.close();`);
    expect(output).toContain('STATE {"checkpoint":42} ["k1"]');
    expect(loaded).toEqual([]);
  });

  it('Redis persistence loads ioredis at its first command and works', () => {
    const { loaded, output } = loadedAfter(`
      const options = { host: '127.0.0.1', port: ${redis.port}, prefix: 'lazy:' + Math.random() + ':' };
      const store = new sdk.RedisStateStore(options);
      const journal = new sdk.RedisAckJournal(options);
      await store.save('lazy;1;svc', { checkpoint: 7 });
      await journal.append('lazy;1;svc', ['k2']);
      console.log('STATE ' + JSON.stringify(await store.load('lazy;1;svc')) + ' ' + JSON.stringify(await journal.read('lazy;1;svc')));
      await store.close();
      await journal.close();`);
    expect(output).toContain('STATE {"checkpoint":7} ["k2"]');
    expect(loaded).toEqual(['ioredis']);
  });
});
