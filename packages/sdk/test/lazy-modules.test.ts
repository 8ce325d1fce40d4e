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

describe('built-in modules a plain configuration does not use are loaded at their first use', () => {
  // node:https (a proxy over TLS, the AWS SDK's agents) and node:zlib (gzip transport) cost an idle collector
  // resident memory for nothing when they are not used (docs/benchmarks.md, wave 10).
  it('the HTTP client and an output without compression load neither node:https nor node:zlib; proxyAgents and gzip transport do', () => {
    const http = fileURLToPath(new URL('../src/http/http-client.ts', import.meta.url));
    const output = fileURLToPath(new URL('../src/delivery/stream-output.ts', import.meta.url));
    const agents = fileURLToPath(new URL('../src/http/proxy-agents.ts', import.meta.url));
    const script = `
      import { createServer } from 'node:net';
      const loaded = () => ['https', 'zlib'].filter((name) => process.moduleLoadList.includes('NativeModule ' + name));
      const { HttpClient } = await import(${JSON.stringify(http)});
      const { StreamOutput } = await import(${JSON.stringify(output)});
      const { proxyAgents } = await import(${JSON.stringify(agents)});
      const received = [];
      const server = createServer((socket) => socket.on('data', (d) => {
        received.push(d);
        if (d.toString('latin1').startsWith('GET ')) socket.write('HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\n\\r\\n{}');
      }));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = server.address().port;
      const steps = [];
      const answer = await new HttpClient().request({ url: 'http://127.0.0.1:' + port + '/x' });
      const target = { host: '127.0.0.1', port, connectTimeoutMs: 5000, sendTimeoutMs: 5000, settleMs: 20, verifyGraceMs: 100 };
      const plain = new StreamOutput('plain', 'relay', { target, hostname: 'h' });
      await plain.start();
      await plain.write([{ tag: 'my.app.lazy', message: 'plain' }], 'standard');
      await plain.stop();
      steps.push('plain ' + answer.text + ' ' + JSON.stringify(loaded()));
      const zipped = new StreamOutput('zipped', 'relay', { target, hostname: 'h', gzipLevel: 6 });
      await zipped.start();
      await zipped.write([{ tag: 'my.app.lazy', message: 'zipped' }], 'standard');
      await zipped.stop();
      steps.push('gzip ' + JSON.stringify(loaded()));
      const { httpsAgent } = proxyAgents(undefined);
      steps.push('agents ' + httpsAgent.constructor.name + ' ' + JSON.stringify(loaded()));
      server.close();
      const bytes = Buffer.concat(received);
      steps.push('gzip member ' + (bytes.indexOf(Buffer.from([0x1f, 0x8b, 0x08])) >= 0));
      console.log('STEPS ' + JSON.stringify(steps));
      process.exit(0); // the server's end of the pooled HTTP connection would hold the process for its idle time`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    const line = /STEPS (.*)/.exec(run.stdout)?.[1];
    if (!line) throw new Error(`child failed (${run.status}): ${run.stderr.slice(-1500)}`);
    expect(JSON.parse(line)).toEqual(['plain {} []', 'gzip ["zlib"]', 'agents Agent ["https","zlib"]', 'gzip member true']);
  });
});
