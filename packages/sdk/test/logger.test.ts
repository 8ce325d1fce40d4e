import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { registerSecret } from '@collector/sdk';
import { clearSecrets, createLogger, onLogRecord, type LogRecord } from '@collector/sdk/host';

afterEach(() => clearSecrets());

function capture(json = false, debug = false) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { log: createLogger({ stream, json, debug }), text: () => text };
}

describe('logger', () => {
  it('writes the manuals line format with the module context', async () => {
    const { log, text } = capture();
    log.child({ process: 'InputProcess', module: 'LarkBasePuller(lark,964383,audit_infos,predefined)' }).info('Pull Started');
    log.warning('Waiting until setup will be executed');
    await new Promise((r) => setImmediate(r));
    const lines = text().trim().split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3} {4}INFO InputProcess::LarkBasePuller\(lark,964383,audit_infos,predefined\) -> Pull Started$/);
    expect(lines[1]).toMatch(/ WARNING MainThread::MainThread -> Waiting until setup will be executed$/);
  });

  it('prints debug only with globals.debug, JSON lines on request, and never a secret', async () => {
    registerSecret('hunter2-hunter2');
    const plain = capture();
    plain.log.debug('hidden');
    const json = capture(true, true);
    json.log.child({ inputName: 'lark', serviceName: 'audit_infos' }).debug('token hunter2-hunter2 used');
    await new Promise((r) => setImmediate(r));
    expect(plain.text()).toBe('');
    const record = JSON.parse(json.text().trim());
    expect(record).toMatchObject({ level: 'debug', input: 'lark', service: 'audit_infos', msg: 'token **** used' });
  });

  it('hands every record to subscribers (the internal sender)', async () => {
    const seen: LogRecord[] = [];
    const off = onLogRecord((r) => seen.push(r));
    const { log } = capture();
    log.child({ inputName: 'lark', serviceName: 'audit_infos', module: 'LarkBasePuller' }).info('Retrieved 50 audit_infos event(s)');
    off();
    log.info('after unsubscribe');
    await new Promise((r) => setImmediate(r));
    expect(seen.map((r) => [r.level, r.msg, r.inputName, r.serviceName, r.module])).toEqual([['info', 'Retrieved 50 audit_infos event(s)', 'lark', 'audit_infos', 'LarkBasePuller']]);
  });

  it('writes a line and hands its record over before the call returns, at the levels asked for, without a logging library loaded', () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d) => (text += d));
    const seen: string[] = [];
    const off = onLogRecord((r) => seen.push(`${r.level} ${r.msg}`));
    const log = createLogger({ stream, level: 'warning' }).child({ module: 'Puller' });
    log.info('dropped');
    log.debug('dropped too');
    log.warn('kept');
    log.error('kept too');
    off();
    expect(text).toMatch(/^\S+ WARNING MainThread::Puller -> kept\n\S+ {3}ERROR MainThread::Puller -> kept too\n$/);
    expect(seen).toEqual(['warning kept', 'error kept too']);
    // winston and its ten packages stayed loaded in every collector for the level filter and the newline.
    expect(Object.keys(createRequire(import.meta.url).cache).filter((file) => /[\\/]node_modules[\\/].*(winston|logform)/.test(file))).toEqual([]);
  });
});
