import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PassThrough } from 'node:stream';
import { createServer, type TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  attachInternalLogs,
  createLogger,
  createOutputs,
  DeliveryPipeline,
  lookupRecords,
  publishLookup,
  silentLogger,
  type OutputConfig,
  type StreamOutput,
} from '@collector/sdk/host';
import { devoOutputConfig } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';

const HOST = 'testhost';
const FAST = { connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 };

const rsyslog = useRsyslog();
/** Events (~1 KB each) of the slow receiver's one batch: more than loopback's socket buffers hold. */
const SLOW_EVENTS = 16_000;

/** The TLS options of a hand-made receiver that verifies our client certificate, as rsyslog does. */
function receiverTls() {
  return { key: readFileSync(rsyslog.pki.serverKey), cert: readFileSync(rsyslog.pki.serverCert), ca: readFileSync(rsyslog.pki.caCert), requestCert: true, rejectUnauthorized: true };
}

/** An output to a hand-made receiver on `port` with a 1 s sending_timeout. */
function outputWithTimeout(port: number) {
  const [output] = createOutputs(
    { devo_1: { type: 'devo_platform', config: { address: '127.0.0.1', port, chain: rsyslog.pki.caCert, cert: rsyslog.pki.clientCert, key: rsyslog.pki.clientKey, sending_timeout: 1, tls_verify_grace_in_ms: 100, ...FAST } } },
    { workDir: tmpdir(), log: silentLogger, hostname: HOST },
  );
  return output!;
}

function devoOutputs(extra: Record<string, unknown> = {}, globals: Record<string, unknown> = {}) {
  const block = devoOutputConfig(rsyslog) as Record<string, OutputConfig>;
  Object.assign(block['devo_1']!.config, FAST, extra);
  return createOutputs(block, { workDir: tmpdir(), log: silentLogger, hostname: HOST, globals });
}

/** Strips the `<14>date host ` prefix: what stays is `tag: message`. */
function body(line: string): string {
  return line.replace(/^<14>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} testhost /, '');
}

describe('lookup sender service', () => {
  it('encodes headers, quoting and DELETE lines as Devo\'s SDK does', () => {
    const { start, data, end } = lookupRecords({
      name: 'Colors',
      headers: ['HEX', { name: 'KEY', type: 'str' }, { name: 'N', type: 'int' }],
      key: 'KEY',
      action: 'FULL',
      rows: [['#f00', 'red', 1], { KEY: 'say "hi"', HEX: ' #0f0 ', N: -2.5 }],
      delete: [['blue']],
      lookupId: '1715000000.1',
    });
    const headers = '[{"KEY":{"type":"str","key":true}},{"HEX":{"type":"str"}},{"N":{"type":"int"}}]';
    expect(start).toMatchObject({ tag: 'my.lookup.control.Colors.FULL', message: `1715000000.1_Colors|START|${headers}` });
    expect(end).toMatchObject({ tag: 'my.lookup.control.Colors.FULL', message: `1715000000.1_Colors|END|${headers}` });
    expect(data.map((d) => [d.tag, d.message])).toEqual([
      ['my.lookup.data.Colors', '1715000000.1_Colors|"red","#f00",1'],
      ['my.lookup.data.Colors', '1715000000.1_Colors|"say ""hi""","#0f0",-2.5'],
      ['my.lookup.data.Colors.DELETE', '1715000000.1_Colors|"blue"'],
    ]);
    expect(() => lookupRecords({ name: 'bad-name', headers: ['K'], key: 'K', action: 'INC' })).toThrow(/OutputError|Invalid lookup name/);
  });

  it('publishes START, data lines and END in order to rsyslog (INC with DELETE)', async () => {
    const pipeline = new DeliveryPipeline(devoOutputs(), { statsPeriodMs: 0 });
    await pipeline.start();
    const from = rsyslog.lines().length;
    const rows = Array.from({ length: 2500 }, (_, i) => [`k${i}`, i]);
    const result = await publishLookup(pipeline, { name: 'Hosts', headers: ['K', { name: 'V', type: 'int' }], key: 'K', action: 'INC', rows, delete: [['gone']], delayMs: 20, lookupId: '1.5' });
    expect(result.lines).toBe(2503);
    await pipeline.stop();
    const lines = (await rsyslog.waitForLines(from + 2503)).slice(from).map(body);
    const headers = '[{"K":{"type":"str","key":true}},{"V":{"type":"int"}}]';
    expect(lines[0]).toBe(`my.lookup.control.Hosts.INC: 1.5_Hosts|START|${headers}`);
    expect(lines.at(-1)).toBe(`my.lookup.control.Hosts.INC: 1.5_Hosts|END|${headers}`);
    const dataLines = lines.slice(1, -1);
    expect(new Set(dataLines).size).toBe(2501);
    expect(dataLines).toContain('my.lookup.data.Hosts: 1.5_Hosts|"k2499",2499');
    expect(dataLines).toContain('my.lookup.data.Hosts.DELETE: 1.5_Hosts|"gone"');
  });
});

describe('internal sender service', () => {
  it('forwards the collector\'s log lines as DCSDK JSON on devo.collectors.out.local.<level>, not the delivery\'s own', async () => {
    const pipeline = new DeliveryPipeline(devoOutputs(), { statsPeriodMs: 0 });
    await pipeline.start();
    const from = rsyslog.lines().length;
    const log = createLogger({ stream: new PassThrough() });
    const detach = attachInternalLogs(pipeline, { collectorName: 'demo_collector', collectorVersion: '1.2.3', collectorImage: null, jobId: 'not_used' });
    log.child({ process: 'InputProcess', module: 'DemoPuller(demo,1,events,predefined)', inputName: 'demo', serviceName: 'events' }).info('Pull Started');
    log.child({ process: 'OutputProcess', module: 'SenderManager' }).warning('delivery line, never forwarded');
    log.warning('something odd');
    await new Promise((r) => setImmediate(r));
    await pipeline.drain(5_000);
    detach();
    await pipeline.stop();
    const lines = (await rsyslog.waitForLines(from + 2)).slice(from).map(body);
    expect(lines).toHaveLength(2);
    const [info, warning] = lines;
    expect(info).toMatch(/^devo\.collectors\.out\.local\.info: \{/);
    expect(JSON.parse(info!.slice(info!.indexOf(': ') + 2))).toEqual({
      msg: 'Pull Started',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      level: 'info',
      collector_name: 'demo_collector',
      collector_version: '1.2.3',
      collector_image: null,
      job_id: 'not_used',
      input_name: 'demo',
      service_name: 'events',
      // The manuals' module_name: the service's module, without input and service.
      module_name: 'DemoPuller',
    });
    // Spaced as the manuals' (Python's json.dumps) lines.
    expect(warning).toMatch(/^devo\.collectors\.out\.local\.warning: \{"msg": "something odd", "time": /);
  });
});

describe('monitoring lines', () => {
  it('logs the DCSDK sender monitor lines and the [GC] memory line every period', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d) => (text += d));
    const log = createLogger({ stream }).child({ process: 'OutputProcess', module: 'SenderManager' });
    const pipeline = new DeliveryPipeline(devoOutputs(), { statsPeriodMs: 150, log });
    await pipeline.start();
    const { delivered } = await pipeline.submit([{ tag: 'my.app.test.stats', message: 'a' }, { tag: 'my.app.test.stats', message: 'b' }]);
    await delivered;
    await new Promise((r) => setTimeout(r, 400));
    await pipeline.stop();
    expect(text).toMatch(/OutputProcess::DevoSenderManagerMonitor\(standard_senders,devo_1\) -> Number of available senders: 1, sender manager internal queue size: 0/);
    expect(text).toMatch(/DevoSenderManagerMonitor\(standard_senders,devo_1\) -> Standard - Total number of messages sent: 2, messages sent since "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00": 2 \(elapsed \d+\.\d{3} seconds\)/);
    expect(text).toMatch(/DevoSenderManagerMonitor\(internal_senders,devo_1\) -> Internal - Total number of messages sent: 0/);
    expect(text).toMatch(/DevoSenderManagerMonitor\(lookup_senders,devo_1\) -> Lookup - Total number of messages sent: 0/);
    expect(text).toMatch(/OutputProcess::MainThread -> \[GC\] global: \d+\.\d% -> \d+\.\d%, process: RSS\(\d+\.\d\dMiB -> \d+\.\d\dMiB\), VMS\(\d+\.\d\d[MG]iB -> \d+\.\d\d[MG]iB\)/);
  });
});

describe('connections', () => {
  it('opens up to concurrent_connections connections under load and delivers everything', async () => {
    const outputs = devoOutputs({}, { sender_concurrent_connections: 3 });
    const output = outputs[0] as StreamOutput;
    const pipeline = new DeliveryPipeline(outputs, { statsPeriodMs: 0, batchSize: 100 });
    await pipeline.start();
    const from = rsyslog.lines().length;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, output.openConnections)), 5);
    const acks: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      const { delivered } = await pipeline.submit(Array.from({ length: 100 }, (_, j) => ({ tag: 'my.app.test.conc', message: `m${i * 100 + j}` })));
      acks.push(delivered);
    }
    await Promise.all(acks);
    clearInterval(sampler);
    await pipeline.stop();
    expect(peak).toBe(3);
    expect(new Set((await rsyslog.waitForLines(from + 10_000)).slice(from)).size).toBe(10_000);
  });

  it('reconnects when the connection has been idle longer than idle_timeout_in_seconds', async () => {
    const outputs = devoOutputs({ idle_timeout_in_seconds: 1 });
    const output = outputs[0] as StreamOutput;
    await output.start();
    const first = (output as unknown as { pool: unknown[] }).pool[0];
    await output.write([{ tag: 'my.app.test.idle', message: 'one' }], 'standard');
    await new Promise((r) => setTimeout(r, 1100));
    await output.write([{ tag: 'my.app.test.idle', message: 'two' }], 'standard');
    const second = (output as unknown as { pool: unknown[] }).pool[0];
    expect(second).not.toBe(first);
    await output.stop();
  });
});

describe('gzip transport (own TLS receiver: rsyslog cannot decode gzip)', () => {
  it('writes each batch as a gzip member on the stream when compression is on', async () => {
    const chunks: Buffer[] = [];
    const server = createServer(
      receiverTls(),
      (socket: TLSSocket) => socket.on('data', (d: Buffer) => chunks.push(d)),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const [output] = createOutputs(
        { devo_1: { type: 'devo_platform', config: { address: '127.0.0.1', port, chain: rsyslog.pki.caCert, cert: rsyslog.pki.clientCert, key: rsyslog.pki.clientKey, compression: true, ...FAST } } },
        { workDir: tmpdir(), log: silentLogger, hostname: HOST },
      );
      await output!.start();
      const t = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
      await output!.write([{ tag: 'my.app.test.zip', message: 'first', time: t }, { tag: 'my.app.test.zip', message: 'multi\nline', time: t }], 'standard');
      await output!.write([{ tag: 'my.app.test.zip', message: 'second batch', time: t }], 'standard');
      // A batch larger than compression_buffer_in_bytes (51200) becomes several members of whole events.
      const big = Array.from({ length: 300 }, (_, i) => ({ tag: 'my.app.test.zip', message: `${i}:${'z'.repeat(500)}`, time: t }));
      await output!.write(big, 'standard');
      await output!.stop();
      const stream = Buffer.concat(chunks);
      expect(stream.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      // Each member starts with the gzip magic; members hold whole events.
      let members = 0;
      for (let i = stream.indexOf(Buffer.from([0x1f, 0x8b, 0x08])); i !== -1; i = stream.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), i + 1)) members++;
      expect(members).toBeGreaterThanOrEqual(5); // 2 small batches + the big one split at ~51200 bytes
      // Concatenated gzip members decompress as one stream.
      const multi = '<14>2024-01-02 03:04:05.006 testhost my.app.test.zip: multi\nline\n';
      expect(gunzipSync(stream).toString('utf8')).toBe(
        '<14>2024-01-02 03:04:05.006 testhost my.app.test.zip: first\n' +
          `${Buffer.byteLength(multi)} ${multi}` +
          '<14>2024-01-02 03:04:05.006 testhost my.app.test.zip: second batch\n' +
          big.map((r) => `<14>2024-01-02 03:04:05.006 testhost my.app.test.zip: ${r.message}\n`).join(''),
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('acknowledgement settle', () => {
  it('a receiver that drops the connection right after reading a batch gets it again; nothing is acknowledged early', async () => {
    let connections = 0;
    const stored: string[] = [];
    const server = createServer(
      receiverTls(),
      (socket: TLSSocket) => {
        const n = ++connections;
        let reads = 0;
        socket.on('error', () => undefined);
        socket.on('data', (d: Buffer) => {
          // The first connection stores the first batch, then "crashes" 5 ms after reading the second one:
          // those bytes are lost, although they were flushed to a connection that was verified and healthy.
          if (n === 1 && ++reads === 2) setTimeout(() => socket.destroy(), 5);
          else stored.push(d.toString('utf8'));
        });
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const outputs = createOutputs(
        { devo_1: { type: 'devo_platform', config: { address: '127.0.0.1', port, chain: rsyslog.pki.caCert, cert: rsyslog.pki.clientCert, key: rsyslog.pki.clientKey, ...FAST } } },
        { workDir: tmpdir(), log: silentLogger, hostname: HOST },
      );
      const pipeline = new DeliveryPipeline(outputs, { statsPeriodMs: 0, retryInitialMs: 10 });
      await pipeline.start();
      await (await pipeline.submit([{ tag: 'my.app.test.settle', message: 'first batch' }])).delivered;
      const { delivered } = await pipeline.submit([{ tag: 'my.app.test.settle', message: 'must survive' }]);
      await delivered;
      await pipeline.stop();
      expect(connections).toBeGreaterThanOrEqual(2);
      expect(stored.join('')).toContain('my.app.test.settle: must survive\n');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('stalled receiver', () => {
  it('a receiver that stops reading fails the write after sending_timeout (OutputError 608), nothing acknowledged', async () => {
    const server = createServer(
      receiverTls(),
      (socket: TLSSocket) => {
        socket.on('error', () => undefined);
        socket.pause(); // never reads: the kernel buffers fill up, then nothing moves
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const output = outputWithTimeout(port);
      const big = Array.from({ length: 25_000 }, (_, i) => ({ tag: 'my.app.test.stall', message: `${i}:${'s'.repeat(1000)}` }));
      const error = await output.write(big, 'standard').catch((e: unknown) => e);
      expect(error).toMatchObject({ type: 'OutputError', id: 608 });
      await output.stop();
    } finally {
      server.close();
    }
  });

  it('a receiver that reads slowly but steadily is not a stall: one batch that takes seconds longer than sending_timeout is delivered whole', async () => {
    // Reads 64 KiB every 25 ms (~2.6 MB/s): the batch's flushed slices are the
    // watchdog's progress, so it never sees sending_timeout (1 s) pass without any. A write that reports
    // progress only at its end would fail this with OutputError 608.
    let received = 0;
    const server = createServer(
      receiverTls(),
      (socket: TLSSocket) => {
        socket.on('error', () => undefined);
        let quota = 0;
        socket.on('data', (d: Buffer) => {
          received += d.length;
          if ((quota -= d.length) <= 0) socket.pause();
        });
        socket.pause();
        const pump = setInterval(() => {
          quota = 64 * 1024;
          socket.resume();
        }, 25);
        socket.on('close', () => clearInterval(pump));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const output = outputWithTimeout(port);
      const big = Array.from({ length: SLOW_EVENTS }, (_, i) => ({ tag: 'my.app.test.slow', message: `${i}:${'s'.repeat(1000)}` }));
      const started = performance.now();
      await output.write(big, 'standard');
      const ms = performance.now() - started;
      await output.stop();
      // Slower than sending_timeout plus the watchdog's 1 s period, or the test proves nothing.
      expect(ms).toBeGreaterThan(2_500);
      for (let waited = 0; received < SLOW_EVENTS * 1000 && waited < 5_000; waited += 25) await new Promise((r) => setTimeout(r, 25));
      expect(received).toBeGreaterThanOrEqual(SLOW_EVENTS * 1000);
    } finally {
      server.close();
    }
  }, 60_000);
});
