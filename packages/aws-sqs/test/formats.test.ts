import { describe, expect, it } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { CATALOGUE, decodeS3Key, JsonStructureError, parseNotification, PROCESSORS, pullingIdSuffix, readParquet, type OutEvent } from '@collector/aws-sqs';
import { vpcParquet } from './parquet-fixture.js';

const SUFFIX = pullingIdSuffix('1700000000000');

/** A service's processor (as its catalogue declaration configures it), writing to `out`. */
function processorOf(service: string, suffix: string, out: (e: OutEvent) => void) {
  const { type, config } = CATALOGUE[service]!.file_format;
  const definition = PROCESSORS[type]!;
  if (definition.input !== 'stream') throw new Error(`${type} is not a stream processor`);
  return definition.create(config ?? {}, { suffix, out });
}

/** Feeds `bytes` in chunks of pseudo-random sizes (1..max), so every boundary case is crossed. */
function decode(service: string, bytes: Buffer, maxChunk = 7): OutEvent[] {
  const out: OutEvent[] = [];
  const decoder = processorOf(service, SUFFIX, (e) => out.push(e));
  let seed = 7;
  for (let i = 0; i < bytes.length; ) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const size = 1 + (seed % maxChunk);
    decoder.push(bytes.subarray(i, i + size));
    i += size;
  }
  decoder.end();
  return out;
}

function parsed(events: OutEvent[]): Record<string, unknown>[] {
  return events.map((e) => (typeof e === 'string' ? (JSON.parse(e) as Record<string, unknown>) : e));
}

const tricky = [
  { eventID: 'a1', eventName: 'ConsoleLogin', note: 'quote " and backslash \\ and \\" together', nested: { list: [1, { x: '}' }], empty: {} } },
  { eventID: 'a2', eventName: 'Put{Object}[x]', userAgent: 'ends with backslash \\', unicode: 'żółć ☃ 𝄞' },
  { eventID: 'a3', requestParameters: null, n: -1.5e3, t: true, f: false },
];

describe('CloudTrail / JSON record scanner', () => {
  it('splits Records whatever the chunk boundaries, keeping each record byte for byte', () => {
    const text = JSON.stringify({ Records: tricky });
    for (const max of [1, 2, 3, 7, 64, 100_000]) {
      const events = decode('aws_sqs_cloudtrail', Buffer.from(text), max);
      expect(events).toHaveLength(3);
      for (let i = 0; i < tricky.length; i++) {
        expect(events[i]).toBe(`${JSON.stringify(tricky[i]).slice(0, -1)},${SUFFIX}}`);
      }
    }
  });

  it('compacts pretty-printed JSON, reads NDJSON, arrays and concatenated documents', () => {
    const pretty = JSON.stringify({ Records: tricky }, null, 2);
    expect(parsed(decode('aws_sqs_cloudtrail', Buffer.from(pretty))).map((e) => e['eventID'])).toEqual(['a1', 'a2', 'a3']);
    for (const e of decode('aws_sqs_cloudtrail', Buffer.from(pretty))) expect(String(e)).not.toContain('\n');
    const ndjson = tricky.map((t) => JSON.stringify(t)).join('\n') + '\n';
    expect(parsed(decode('aws_sqs_json', Buffer.from(ndjson))).map((e) => e['eventID'])).toEqual(['a1', 'a2', 'a3']);
    const concatenated = tricky.map((t) => JSON.stringify(t)).join('');
    expect(parsed(decode('aws_sqs_json', Buffer.from(concatenated))).map((e) => e['eventID'])).toEqual(['a1', 'a2', 'a3']);
    expect(parsed(decode('aws_sqs_json', Buffer.from(JSON.stringify(tricky)))).map((e) => e['eventID'])).toEqual(['a1', 'a2', 'a3']);
    expect(parsed(decode('aws_sqs_json', Buffer.from('{}')))).toEqual([{ '@devo_pulling_id': '1700000000000' }]);
    const out: OutEvent[] = [];
    const withEnvironment = processorOf('aws_sqs_cloudtrail', pullingIdSuffix('1', 'prod-eu'), (e) => out.push(e));
    withEnvironment.push(Buffer.from('{"Records":[{"a":1}]}'));
    withEnvironment.end();
    expect(out).toEqual(['{"a":1,"@devo_pulling_id":"1","@devo_environment":"prod-eu"}']);
  });

  it('splits CloudWatch Logs documents from Firehose and skips CONTROL_MESSAGE', () => {
    const doc = (type: string, ids: string[]) =>
      JSON.stringify({ messageType: type, owner: '123456789012', logGroup: 'g', logStream: 's', subscriptionFilters: ['f'], logEvents: ids.map((id, i) => ({ id, timestamp: 1432826855000 + i, message: `m ${id}` })) });
    const body = doc('CONTROL_MESSAGE', ['c1']) + doc('DATA_MESSAGE', ['d1', 'd2']) + doc('DATA_MESSAGE', ['d3']);
    const events = parsed(decode('aws_sqs_json', Buffer.from(body)));
    expect(events.map((e) => e['id'])).toEqual(['d1', 'd2', 'd3']);
    expect(events[0]).toMatchObject({ message: 'm d1', logGroup: 'g', logStream: 's', owner: '123456789012' });
  });

  it('throws on truncated or mismatched JSON', () => {
    expect(() => decode('aws_sqs_cloudtrail', Buffer.from('{"Records":[{"a":1},{"b":'))).toThrow(JsonStructureError);
    expect(() => decode('aws_sqs_json', Buffer.from('{"a":[1}'))).toThrow(/malformed JSON/);
  });

  it('falls back to Latin-1 for records that are not UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('{"Records":[{"eventID":"x","v":"caf'), Buffer.from([0xe9]), Buffer.from(' \xa9"}]}', 'latin1')]);
    const [event] = parsed(decode('aws_sqs_cloudtrail', bytes));
    expect(event!['v']).toBe('café ©');
  });
});

/** A seeded random JSON value with awkward strings (quotes, backslashes, brackets, unicode, escapes). */
function randomValue(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 4 : 7));
  const pieces = ['a', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\n', 'é', '☃', '𝄞', '\u0000', 'Records', 'logEvents'];
  switch (pick) {
    case 0:
      // Up to 12 pieces, or up to 60 (long strings, as ARNs and user agents, with escapes anywhere in them).
      return Array.from({ length: Math.floor(r() * (r() < 0.3 ? 60 : 12)) }, () => pieces[Math.floor(r() * pieces.length)]).join('');
    case 1:
      return Math.floor(r() * 1e9) / (r() < 0.5 ? 1 : 1000) * (r() < 0.5 ? -1 : 1);
    case 2:
      return r() < 0.5 ? null : r() < 0.5;
    case 3:
      return '';
    case 4:
    case 5: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) o[String(randomValue(r, 4))] = randomValue(r, depth + 1);
      return o;
    }
    default:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  }
}

describe('scanner against JSON.parse on random documents', () => {
  it('splits 300 random CloudTrail-shaped files and NDJSON streams exactly like JSON.parse would', () => {
    let seed = 12345;
    const r = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
    for (let round = 0; round < 300; round++) {
      const records = Array.from({ length: 1 + Math.floor(r() * 6) }, () => ({ eventID: `e${round}`, ...(randomValue(r, 1) as object), payload: randomValue(r, 1) }));
      const pretty = r() < 0.3;
      const file = JSON.stringify({ Records: records }, null, pretty ? 2 : undefined);
      // Small chunks cross every boundary; whole files let the scanner skip long strings natively.
      const chunk = () => (r() < 0.3 ? 1 << 20 : 1 + Math.floor(r() * 40));
      const events = parsed(decode('aws_sqs_cloudtrail', Buffer.from(file), chunk()));
      expect(events).toEqual(records.map((x) => ({ ...x, '@devo_pulling_id': '1700000000000' })));
      const ndjson = records.map((x) => JSON.stringify(x)).join(r() < 0.5 ? '\n' : '\r\n');
      expect(parsed(decode('aws_sqs_json', Buffer.from(ndjson), chunk()))).toEqual(records.map((x) => ({ ...x, '@devo_pulling_id': '1700000000000' })));
    }
  });
});

describe('text formats', () => {
  it('VPC flow logs: header names the fields, one JSON object per record', () => {
    const text = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\r\n2 123456789010 eni-1 - - - - - - - 1418530010 1418530070 - NODATA\n';
    const events = parsed(decode('aws_sqs_vpc', Buffer.from(text)));
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({ version: '2', 'account-id': '123456789010', 'interface-id': 'eni-1235b8ca123456789', srcaddr: '172.31.16.139', dstaddr: '172.31.16.21', srcport: '20641', dstport: '22', protocol: '6', packets: '20', bytes: '4249', start: '1418530010', end: '1418530070', action: 'ACCEPT', 'log-status': 'OK', '@devo_pulling_id': '1700000000000' });
    expect(events[1]!['log-status']).toBe('NODATA');
    const custom = parsed(decode('aws_sqs_vpc', Buffer.from('vpc-id flow-direction\nvpc-1 ingress\n')));
    expect(custom).toEqual([{ 'vpc-id': 'vpc-1', 'flow-direction': 'ingress', '@devo_pulling_id': '1700000000000' }]);
  });

  it('CloudWatch VPC: log events from Firehose documents become named flow records', () => {
    const doc = JSON.stringify({ messageType: 'DATA_MESSAGE', logGroup: 'vpc', logEvents: [{ id: '1', timestamp: 1, message: '2 123 eni-1 10.0.0.1 10.0.0.2 443 5000 6 1 40 1 2 ACCEPT OK' }] });
    const [event] = parsed(decode('aws_sqs_cloudwatch_vpc', Buffer.from(doc)));
    expect(event).toMatchObject({ srcaddr: '10.0.0.1', dstport: '5000', action: 'ACCEPT' });
  });

  it('ALB and Classic ELB lines get their field names; quoted values keep their spaces', () => {
    const alb = 'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-"\n';
    const [a] = parsed(decode('aws_sqs_elb', Buffer.from(alb)));
    expect(a).toMatchObject({ type: 'http', 'client:port': '192.168.131.39:2817', request: 'GET http://www.example.com:80/ HTTP/1.1', user_agent: 'curl/7.46.0', actions_executed: 'forward' });
    const classic = '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -\n';
    const [c] = parsed(decode('aws_sqs_elb', Buffer.from(classic)));
    expect(c).toMatchObject({ time: '2015-05-13T23:39:43.945958Z', 'backend:port': '10.0.0.1:80', user_agent: 'curl/7.38.0' });
  });

  it('a UTF-8 byte order mark at the start of an object is not data', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(parsed(decode('aws_sqs_cloudtrail', Buffer.concat([bom, Buffer.from('{"Records":[{"eventID":"x"}]}')]), 1)).map((e) => e['eventID'])).toEqual(['x']);
    const firehose = JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: [{ id: '1', timestamp: 1, message: '2 1 eni-1 10.0.0.9 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK' }] });
    expect(parsed(decode('aws_sqs_cloudwatch_vpc', Buffer.concat([bom, Buffer.from(firehose)]), 1))[0]).toMatchObject({ srcaddr: '10.0.0.9' });
    expect(parsed(decode('aws_sqs_vpc', Buffer.concat([bom, Buffer.from('version srcaddr\n2 10.0.0.1\n')]), 1))).toEqual([{ version: '2', srcaddr: '10.0.0.1', '@devo_pulling_id': '1700000000000' }]);
  });

  it('text: one event per line, CRLF and a last line without LF included', () => {
    expect(decode('aws_sqs_text', Buffer.from('a b\r\n\nc'))).toEqual(['a b', 'c']);
  });
});

describe('notifications', () => {
  const s3Record = (key: string, eventName = 'ObjectCreated:Put') => ({ eventSource: 'aws:s3', eventName, s3: { bucket: { name: 'b' }, object: { key, size: 3 } } });

  it('reads S3 notifications with form-style keys, SNS-wrapped ones and EventBridge events', () => {
    expect(parseNotification(JSON.stringify({ Records: [s3Record('a/red+flower%28x%29.json'), s3Record('gone', 'ObjectRemoved:Delete')] }))).toEqual({
      kind: 'objects',
      source: 's3',
      objects: [{ bucket: 'b', key: 'a/red flower(x).json', size: 3, eventName: 'ObjectCreated:Put' }],
      ignored: 1,
    });
    const sns = { Type: 'Notification', TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic', Message: JSON.stringify({ Records: [s3Record('k')] }) };
    expect(parseNotification(JSON.stringify(sns))).toMatchObject({ kind: 'objects', source: 'sns', objects: [{ key: 'k' }] });
    const eb = { version: '0', 'detail-type': 'Object Created', source: 'aws.s3', detail: { bucket: { name: 'b' }, object: { key: 'x y+z', size: 5 } } };
    expect(parseNotification(JSON.stringify(eb))).toMatchObject({ kind: 'objects', source: 'eventbridge', objects: [{ key: 'x y+z', alternativeKey: 'x y z' }] });
    expect(parseNotification('{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}')).toEqual({ kind: 'test' });
    expect(parseNotification(JSON.stringify({ Type: 'Notification', TopicArn: 't', Message: '{"Event":"s3:TestEvent"}' }))).toEqual({ kind: 'test' });
    expect(parseNotification('not json').kind).toBe('invalid');
    expect(decodeS3Key('100%+sure%2')).toBe('100% sure%2');
    expect(parseNotification(JSON.stringify({ Records: [s3Record('k', 's3:ObjectCreated:CompleteMultipartUpload')] }))).toMatchObject({ objects: [{ key: 'k' }], ignored: 0 });
  });
});

describe('Parquet rows', () => {
  const memory = (buf: ArrayBuffer) => ({ byteLength: buf.byteLength, slice: (s: number, e?: number) => buf.slice(s, e) });
  async function rows(buf: ArrayBuffer, batch = 1000): Promise<{ rows: OutEvent[]; calls: number }> {
    const out: OutEvent[] = [];
    let calls = 0;
    await readParquet(memory(buf), SUFFIX, async (r) => void (calls++, out.push(...r)), new AbortController().signal, batch);
    return { rows: out, calls };
  }

  it('a flat file (VPC flow logs) becomes JSON text per row, handed on a batch at a time; 64-bit values beyond 2^53 become strings', async () => {
    const { body, ids } = vpcParquet(25, { rowGroupSize: 10 });
    const { rows: out, calls } = await rows(body.buffer.slice(body.byteOffset, body.byteOffset + body.length) as ArrayBuffer, 4);
    expect(calls).toBe(8); // row groups of 10, 10 and 5 rows in batches of 4: 3 + 3 + 2
    expect(parsed(out).map((r) => r['interface_id'])).toEqual(ids);
    expect(parsed(out)[0]).toEqual({ version: 2, account_id: '123456789012', interface_id: ids[0], srcaddr: '10.0.0.0', dstaddr: '10.1.0.5', srcport: 1024, dstport: 443, protocol: 6, packets: 10, bytes: 4000, start: 1714564800, end: 1714564860, action: 'REJECT', log_status: 'OK', '@devo_pulling_id': '1700000000000' });
    const big = parquetWriteBuffer({ columnData: [{ name: 'n', data: [1n, 2n ** 60n], type: 'INT64' }] });
    expect(parsed((await rows(big)).rows)).toEqual([{ n: 1, '@devo_pulling_id': '1700000000000' }, { n: '1152921504606846976', '@devo_pulling_id': '1700000000000' }]);
  });

  it('a file with nested columns becomes one object per row with its structure', async () => {
    const nested = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ['a', 'b'] },
        { name: 'src', data: [{ ip: '192.0.2.1', port: 443n }, { ip: '192.0.2.2', port: 80n }] },
      ],
      schema: [
        { name: 'root', num_children: 2 },
        { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'src', repetition_type: 'REQUIRED', num_children: 2 },
        { name: 'ip', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'port', type: 'INT64', repetition_type: 'REQUIRED' },
      ],
    } as never);
    expect((await rows(nested)).rows).toEqual([
      { id: 'a', src: { ip: '192.0.2.1', port: 443 } },
      { id: 'b', src: { ip: '192.0.2.2', port: 80 } },
    ]);
  });
});
