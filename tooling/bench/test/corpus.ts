/**
 * The bad-input corpus: malformed config files (every collector) and malformed vendor answers (per vendor:
 * the data endpoint's envelope with wrong types, invalid UTF-8, a huge page, truncation, HTML, empty, null).
 * Each entry says what the collector must do: a documented error line and no crash, or carry on.
 */

/** A config file's bytes, given the collector's valid config as an object. */
export interface ConfigCase {
  name: string;
  /** `error` (default): exit 2 with a documented error line. `either`: exit 0 or that. */
  expect?: 'error' | 'either';
  /** The documented `<Type> <ID>: ...` the case must give, where every collector gives the same. */
  error?: RegExp;
  make(valid: Record<string, unknown>): Buffer | string;
}

const firstService = (config: Record<string, unknown>): Record<string, unknown> => {
  const inputs = config['inputs'] as Record<string, { services: Record<string, Record<string, unknown>> }>;
  const input = Object.values(inputs)[0]!;
  return Object.values(input.services)[0]!;
};
const firstInput = (config: Record<string, unknown>): Record<string, unknown> => Object.values(config['inputs'] as Record<string, Record<string, unknown>>)[0]!;
const clone = (v: Record<string, unknown>) => structuredClone(v);

export const CONFIG_CASES: ConfigCase[] = [
  { name: 'empty file', make: () => '' },
  { name: 'binary garbage with invalid UTF-8', make: () => Buffer.from([0xff, 0xfe, 0x00, 0x9f, 0x92, 0x96, 0x3a, 0x0a, 0xc3, 0x28, 0x7b, 0x5b]) },
  { name: 'invalid UTF-8 inside a valid document', expect: 'either', make: (v) => Buffer.concat([Buffer.from(JSON.stringify(v).slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('"}')]) },
  { name: 'unterminated YAML', make: () => 'globals:\n  debug: [true\ninputs: {' },
  { name: 'a list instead of a mapping', make: () => '- globals\n- inputs\n' },
  { name: 'YAML alias bomb (billion laughs)', make: () => ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]', 'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]', 'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]', 'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]', 'inputs: *g', ''].join('\n') },
  { name: 'inputs is a string', make: (v) => JSON.stringify({ ...v, inputs: 'lark' }) },
  { name: 'credentials is a string', make: (v) => { const c = clone(v); firstInput(c)['credentials'] = 'secret'; return JSON.stringify(c); } },
  { name: 'services is a list', make: (v) => { const c = clone(v); firstInput(c)['services'] = ['a', 'b']; return JSON.stringify(c); } },
  { name: 'request_period_in_seconds is a word', make: (v) => { const c = clone(v); firstService(c)['request_period_in_seconds'] = 'soon'; return JSON.stringify(c); } },
  { name: 'request_period_in_seconds is negative', make: (v) => { const c = clone(v); firstService(c)['request_period_in_seconds'] = -5; return JSON.stringify(c); } },
  { name: 'override_base_url is a number', make: (v) => { const c = clone(v); firstService(c)['override_base_url'] = 12345; return JSON.stringify(c); } },
  { name: 'output port is a word', make: (v) => JSON.stringify({ ...v, outputs: { devo_1: { type: 'devo_platform', config: { address: '127.0.0.1', port: 'http', type: 'SSL' } } } }) },
  { name: 'output of an unknown type', make: (v) => JSON.stringify({ ...v, outputs: { devo_1: { type: 'carrier_pigeon', config: {} } } }) },
  { name: 'persistence of an unknown type', make: (v) => JSON.stringify({ ...v, globals: { ...(v['globals'] as object), persistence: { type: 'floppy', config: {} } } }) },
  { name: 'an unknown service name', error: /ConfigError 12: Unknown service <no_such_service>; the known services of inputs\.\w+ are: /, make: (v) => { const c = clone(v); const input = firstInput(c) as { services: Record<string, unknown> }; input.services = { no_such_service: {} }; return JSON.stringify(c); } },
  { name: 'no credentials block', error: /ConfigError 10: Missing required setting <credentials>|InitVariablesError \d+: .*credentials/, make: (v) => { const c = clone(v); delete firstInput(c)['credentials']; return JSON.stringify(c); } },
  { name: 'a number for a credential', make: (v) => { const c = clone(v); const creds = firstInput(c)['credentials'] as Record<string, unknown>; const key = Object.keys(creds).find((k) => typeof creds[k] === 'string')!; creds[key] = 12345678; return JSON.stringify(c); } },
  { name: 'override_devo_tag is a number', error: /ConfigError 10: Setting <override_devo_tag> must be string|InitVariablesError \d+: .*override_devo_tag/, make: (v) => { const c = clone(v); firstService(c)['override_devo_tag'] = 123; return JSON.stringify(c); } },
  { name: 'a 5 MB string value', expect: 'either', make: (v) => { const c = clone(v); firstService(c)['override_devo_tag'] = 'x'.repeat(5_000_000); return JSON.stringify(c); } },
];

/** What the data endpoint answers (HTTP 200), given the request path. */
export interface ResponseCase {
  name: string;
  /** Set when the collector is known not to meet the expectation: the test then expects the failure. */
  knownGap?: string;
  body(path: string): Buffer;
  /** `error`: a documented error line and exit 1. `either`: exit 0, or exit 1 with a documented error line. */
  expect: 'error' | 'either';
}

/** Per vendor: the data endpoint and its envelope around raw JSON record text. */
export interface VendorShape {
  dataPath: RegExp;
  /** The answer with these records (raw JSON texts, so invalid bytes survive). */
  envelope(records: Buffer[], path: string): Buffer;
  /** A record of the vendor's shape whose string field holds `value` (raw bytes inside the quotes). */
  record(i: number, value: Buffer): Buffer;
  /** The envelope with its fields of the wrong JSON types. */
  wrongTypes: string;
}

const b = (s: string) => Buffer.from(s);
const join = (parts: Buffer[], sep = ',') => Buffer.concat(parts.flatMap((p, i) => (i ? [b(sep), p] : [p])));
const nowSeconds = () => Math.floor(Date.now() / 1000);

function proofpointEnd(path: string): string {
  const interval = new URL(path, 'http://x').searchParams.get('interval') ?? '';
  const end = interval.split('/')[1];
  return end && !Number.isNaN(Date.parse(end)) ? new Date(Date.parse(end)).toISOString().replace(/\.\d{3}Z$/, 'Z') : new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const SHAPES: Record<string, VendorShape> = {
  lark: {
    dataPath: /^\/open-apis\/admin\/v1\/audit_infos/,
    envelope: (records) => Buffer.concat([b('{"code":0,"msg":"success","data":{"has_more":false,"items":['), join(records), b(']}}')]),
    record: (i, value) => Buffer.concat([b(`{"unique_id":"corpus-${i}","event_id":"e${i}","event_time":${nowSeconds() - 7200},"event_name":"`), value, b('","event_module":1,"operator_type":1}')]),
    wrongTypes: '{"code":0,"msg":"success","data":{"has_more":"maybe","items":"none","page_token":42}}',
  },
  darktrace: {
    dataPath: /^\/modelbreaches/,
    envelope: (records) => Buffer.concat([b('['), join(records), b(']')]),
    record: (i, value) => Buffer.concat([b(`{"pbid":${900000 + i},"time":${Date.now() - 7_200_000},"creationTime":${Date.now() - 7_200_000},"score":0.5,"model":{"then":{"name":"`), value, b('"}},"triggeredComponents":[],"device":{}}')]),
    wrongTypes: '{"pbid":"one","time":"yesterday","breaches":{"a":1}}',
  },
  'o365-emt': {
    dataPath: /messageTraces/,
    envelope: (records) => Buffer.concat([b('{"@odata.context":"https://graph.microsoft.com/beta/$metadata#admin/exchange/tracing/messageTraces","value":['), join(records), b(']}')]),
    record: (i, value) => Buffer.concat([b(`{"id":"00000000-0000-0000-0000-${String(i).padStart(12, '0')}","messageId":"<m${i}@x>","recipientAddress":"r${i}@contoso.com","senderAddress":"s@x.example","receivedDateTime":"${new Date(Date.now() - 30 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')}","status":"delivered","subject":"`), value, b('"}')]),
    wrongTypes: '{"value":"none","@odata.nextLink":17}',
  },
  'proofpoint-tap': {
    dataPath: /^\/v2\/siem\//,
    envelope: (records, path) => Buffer.concat([b(`{"queryEndTime":"${proofpointEnd(path)}","messagesDelivered":[`), join(records), b('],"messagesBlocked":[],"clicksPermitted":[],"clicksBlocked":[]}')]),
    record: (i, value) => Buffer.concat([b(`{"GUID":"corpus${i}","id":"corpus-id-${i}","messageTime":"${new Date(Date.now() - 7_200_000).toISOString()}","threatsInfoMap":[],"recipient":["r@x"],"subject":"`), value, b('"}')]),
    wrongTypes: '{"queryEndTime":12345,"messagesDelivered":"none","clicksPermitted":{"a":1}}',
  },
};

export function responseCases(shape: VendorShape): ResponseCase[] {
  return [
    { name: 'truncated JSON', expect: 'error', body: (p) => { const full = shape.envelope([shape.record(1, b('ok'))], p); return full.subarray(0, Math.floor(full.length / 2)); } },
    { name: 'an HTML error page with HTTP 200', expect: 'error', body: () => b('<html><body><h1>502 Bad Gateway</h1></body></html>') },
    { name: 'an empty body', expect: 'error', body: () => b('') },
    { name: 'JSON null', expect: 'error', body: () => b('null') },
    { name: 'the envelope with wrong types', expect: 'error', body: () => b(shape.wrongTypes) },
    { name: 'invalid UTF-8 inside a record', expect: 'either', body: (p) => shape.envelope([shape.record(2, Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]))], p) },
    { name: 'a huge page (16 MB, one 16 MB field)', expect: 'either', body: (p) => shape.envelope([shape.record(3, Buffer.alloc(16_000_000, 0x61))], p) },
    { name: 'a huge page (20 000 records)', expect: 'either', body: (p) => shape.envelope(Array.from({ length: 20_000 }, (_, i) => shape.record(10_000 + i, b('many'))), p) },
  ];
}
