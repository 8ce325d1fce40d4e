import { describe, expect, it } from 'vitest';
import { CapturingOutput, isVendorEventLine, parseReceivedEvents, parseReceivedLine, parseReceivedLines, SyslogFrameParser, tryParseReceivedLine, waitForReceivedEvents, waitUntil } from '../src/index.js';

const EVENT = '<14>2024-06-01 10:00:03.123 collector-host app.lark.audit.event: {"unique_id":"u1","@devo_pulling_id":"1717236003000"}';
const LOG = '<14>2024-06-01 10:00:03.124 collector-host devo.collectors.out.local.info: {"msg":"Pull Started","level":"INFO"}';

describe('SyslogFrameParser', () => {
  it('frames: LF-terminated and RFC 6587 octet-counted messages, split across chunks', () => {
    const parser = new SyslogFrameParser();
    const multi = '<14>2024-01-01 00:00:00.000 host my.tag: {"a":"x\ny"}';
    const bytes = Buffer.from(`<14>2024-01-01 00:00:00.000 host my.tag: one\n${Buffer.byteLength(multi)} ${multi}<14>2024-01-01 00:00:01.000 host other.tag: two\n`);
    const out = [...parser.push(bytes.subarray(0, 50)), ...parser.push(bytes.subarray(50, 90)), ...parser.push(bytes.subarray(90))];
    expect(out).toEqual(['<14>2024-01-01 00:00:00.000 host my.tag: one', multi, '<14>2024-01-01 00:00:01.000 host other.tag: two']);
    expect(parseReceivedLine(multi)).toMatchObject({ hostname: 'host', tag: 'my.tag', message: '{"a":"x\ny"}' });
  });

  it('throws on an octet count that is not a number', () => {
    expect(() => new SyslogFrameParser().push(Buffer.from('12x <14>...'))).toThrow(/bad octet count/);
  });
});

describe('parseReceivedLine', () => {
  it('splits a DCSDK line into its fields and keeps the raw line', () => {
    expect(parseReceivedLine(EVENT)).toEqual({
      timestamp: '2024-06-01 10:00:03.123',
      hostname: 'collector-host',
      tag: 'app.lark.audit.event',
      message: '{"unique_id":"u1","@devo_pulling_id":"1717236003000"}',
      raw: EVENT,
    });
  });

  it('keeps the newlines of an octet-counted message', () => {
    expect(parseReceivedLine('<14>2024-06-01 10:00:03.123 h my.tag: {"a":"x\ny"}').message).toBe('{"a":"x\ny"}');
  });

  it.each([
    ['another PRI', EVENT.replace('<14>', '<13>')],
    ['no milliseconds', EVENT.replace('.123', '')],
    ['no tag separator', '<14>2024-06-01 10:00:03.123 collector-host app.lark.audit.event {}'],
    ['an empty line', ''],
  ])('throws on a line with %s', (_what, line) => {
    expect(() => parseReceivedLine(line)).toThrow(/^Not a DCSDK syslog line/);
    expect(tryParseReceivedLine(line)).toBeUndefined();
    expect(isVendorEventLine(line)).toBe(false);
  });

  it('isVendorEventLine: a vendor event yes, a collector log line no', () => {
    expect([EVENT, LOG].map(isVendorEventLine)).toEqual([true, false]);
  });

  it('parseReceivedLines keeps log lines; parseReceivedEvents leaves them out and parses the events', () => {
    expect(parseReceivedLines([EVENT, LOG]).map((l) => l.tag)).toEqual(['app.lark.audit.event', 'devo.collectors.out.local.info']);
    const events = parseReceivedEvents([LOG, EVENT, LOG]);
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toEqual({ unique_id: 'u1', '@devo_pulling_id': '1717236003000' });
  });

  it('waitForReceivedEvents reads only the lines after fromLine and returns once enough arrived', async () => {
    const lines = [EVENT, LOG];
    setTimeout(() => lines.push(EVENT.replace('u1', 'u2')), 30);
    const events = await waitForReceivedEvents({ lines: () => [...lines] }, 1, 1, 5_000);
    expect(events.map((e) => e.event['unique_id'])).toEqual(['u2']);
  });

  it('waitForReceivedEvents returns what arrived when the time is up, without throwing', async () => {
    expect(await waitForReceivedEvents({ lines: () => [EVENT] }, 0, 2, 50)).toHaveLength(1);
  });
});

describe('CapturingOutput', () => {
  it('records acknowledged lines; events() and ids() leave the collector log lines out', async () => {
    const output = new CapturingOutput('capture', { services: ['standard', 'internal'] });
    await output.write([{ tag: 'my.tag', message: '{"id":1,"unique_id":"a"}' }, { tag: 'devo.collectors.out.local.info', message: '{"msg":"x"}' }], 'standard');
    await output.write([{ tag: 'other.tag', message: '{"id":2}' }]);
    expect(output.records).toHaveLength(3);
    expect(output.events()).toEqual([{ id: 1, unique_id: 'a' }, { id: 2 }]);
    expect(output.events('other.tag')).toEqual([{ id: 2 }]);
    expect(output.ids()).toEqual(['1', '2']);
    expect(output.ids('unique_id', 'my.tag')).toEqual(['a']);
    expect(output.collectorLogs().map((r) => r.tag)).toEqual(['devo.collectors.out.local.info']);
    expect(output.services).toEqual(['standard', 'internal']);
  });

  it('takes the SDK default services when none are given, and failNext rejects writes without recording them', async () => {
    const output = new CapturingOutput();
    expect(output.services).toBeUndefined();
    expect(output.ready()).toBe(true);
    output.failNext = 1;
    await expect(output.write([{ tag: 't', message: '{}' }])).rejects.toThrow('simulated connection loss');
    expect(output.records).toHaveLength(0);
    await output.write([{ tag: 't', message: '{}' }]);
    expect(output.records).toHaveLength(1);
  });
});

describe('waitUntil', () => {
  it('resolves once the condition holds and names what was not met on timeout', async () => {
    let ready = false;
    setTimeout(() => (ready = true), 30);
    await waitUntil(() => ready, { timeoutMs: 5_000 });
    await expect(waitUntil(() => false, { timeoutMs: 30, what: 'the third cycle' })).rejects.toThrow('the third cycle not met within 30 ms');
  });
});
