import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@collector/testkit';

// A collector pays for the modules it loads (resident memory and start-up CPU, docs/benchmarks.md): ioredis is
// loaded only when the persistence is Redis, undici never (npm's or Node's own). Each case runs in a fresh process, whose CommonJS cache tells
// which packages were loaded.
const host = fileURLToPath(new URL('../src/host.ts', import.meta.url));
const api = fileURLToPath(new URL('../src/index.ts', import.meta.url));

function loadedAfter(body: string): { loaded: string[]; output: string } {
  const script = `
    import { createRequire } from 'node:module';
    const sdk = await import(${JSON.stringify(host)});
    ${body}
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /[\\\\/]node_modules[\\\\/](ioredis|undici)[\\\\/]/.test(p));
    const names = loaded.map((p) => /node_modules[\\\\/](ioredis|undici)[\\\\/]/.exec(p)[1]);
    // Node's own copy of undici (behind fetch, WebSocket and node:http's ES namespace) is a built-in module.
    if (process.moduleLoadList.some((m) => m.endsWith('internal/deps/undici/undici'))) names.push('node:undici');
    console.log('LOADED ' + JSON.stringify([...new Set(names)]));`;
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
  it('the HTTP client (direct and through a proxy) and the health server load no undici', () => {
    const { loaded, output } = loadedAfter(`
      const { HttpClient } = await import(${JSON.stringify(api)});
      const server = await sdk.startHealthServer({ address: '127.0.0.1', port: 0, log: sdk.silentLogger, sources: { readiness: () => ({ ready: true, inputs: {}, outputs: {} }), metrics: async () => '', metricsContentType: 'text/plain' } });
      const direct = await new HttpClient().request({ url: server.url + '/health' });
      // Through a "proxy" that is the health server itself: it answers CONNECT with 404, a failed tunnel.
      const proxy = sdk.resolveProxy({ http_proxy: server.url }, {});
      const tunnelled = await new HttpClient({ proxy }).request({ url: server.url + '/health', retries: 0 }).catch((e) => e.kind);
      console.log('HTTP ' + direct.status + ' ' + tunnelled);
      await server.close();`);
    expect(output).toContain('HTTP 200 network');
    expect(loaded).toEqual([]);
  });

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
