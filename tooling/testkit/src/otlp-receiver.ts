import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A local OTLP/HTTP metrics receiver (`POST /v1/metrics`) that decodes what arrives, protobuf
 * (application/x-protobuf, decoded here from the wire format of opentelemetry-proto's metrics.proto) or JSON
 * (application/json), into one shape for assertions.
 */

export type AttributeValue = string | number | boolean;

export interface ReceivedPoint {
  attributes: Record<string, AttributeValue>;
  /** Sum and gauge points. */
  value?: number;
  /** Histogram points. */
  count?: number;
  sum?: number;
  bounds?: number[];
  bucketCounts?: number[];
}

export interface ReceivedMetric {
  name: string;
  unit: string;
  kind: 'sum' | 'gauge' | 'histogram' | 'other';
  monotonic?: boolean;
  /** 1 delta, 2 cumulative. */
  temporality?: number;
  points: ReceivedPoint[];
}

export interface ReceivedExport {
  contentType: string;
  /** The request headers (OTEL_EXPORTER_OTLP_HEADERS arrive here). */
  headers: Record<string, string | string[] | undefined>;
  resource: Record<string, AttributeValue>;
  scopes: string[];
  metrics: ReceivedMetric[];
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  exports: ReceivedExport[];
  /** The metric of that name in the latest export that has it. */
  latest(name: string): ReceivedMetric | undefined;
  close(): Promise<void>;
}

// --- protobuf wire format -------------------------------------------------------------------------------

type Field = { no: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 1) (out.push({ no, wire, fixed: buf.subarray(pos, pos + 8) }), (pos += 8));
    else if (wire === 5) (out.push({ no, wire, fixed: buf.subarray(pos, pos + 4) }), (pos += 4));
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, wire, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else throw new Error(`Unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const all = (fs: Field[], no: number) => fs.filter((f) => f.no === no);
const one = (fs: Field[], no: number) => fs.find((f) => f.no === no);
const str = (f: Field | undefined) => f?.bytes?.toString('utf8') ?? '';

function anyValue(buf: Buffer): AttributeValue {
  const f = fields(buf)[0];
  if (!f) return '';
  if (f.no === 1) return str(f);
  if (f.no === 2) return f.varint === 1n;
  if (f.no === 3) return Number(BigInt.asIntN(64, f.varint ?? 0n));
  if (f.no === 4) return f.fixed!.readDoubleLE(0);
  return '';
}

function keyValues(fs: Field[]): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of fs) {
    const inner = fields(kv.bytes!);
    const value = one(inner, 2);
    out[str(one(inner, 1))] = value ? anyValue(value.bytes!) : '';
  }
  return out;
}

function packed(field: Field[], read: (b: Buffer, at: number) => number): number[] {
  const out: number[] = [];
  for (const f of field) {
    if (f.bytes) for (let at = 0; at + 8 <= f.bytes.length; at += 8) out.push(read(f.bytes, at));
    else if (f.fixed) out.push(read(f.fixed, 0));
  }
  return out;
}

function numberPoint(buf: Buffer): ReceivedPoint {
  const fs = fields(buf);
  const double = one(fs, 4);
  const int = one(fs, 6);
  return { attributes: keyValues(all(fs, 7)), value: double ? double.fixed!.readDoubleLE(0) : int ? Number(int.fixed!.readBigInt64LE(0)) : undefined };
}

function histogramPoint(buf: Buffer): ReceivedPoint {
  const fs = fields(buf);
  return {
    attributes: keyValues(all(fs, 9)),
    count: Number(one(fs, 4)?.fixed?.readBigUInt64LE(0) ?? 0),
    sum: one(fs, 5)?.fixed?.readDoubleLE(0),
    bucketCounts: packed(all(fs, 6), (b, at) => Number(b.readBigUInt64LE(at))),
    bounds: packed(all(fs, 7), (b, at) => b.readDoubleLE(at)),
  };
}

function protobufMetric(buf: Buffer): ReceivedMetric {
  const fs = fields(buf);
  const metric: ReceivedMetric = { name: str(one(fs, 1)), unit: str(one(fs, 3)), kind: 'other', points: [] };
  const gauge = one(fs, 5);
  const sum = one(fs, 7);
  const histogram = one(fs, 9);
  if (gauge) Object.assign(metric, { kind: 'gauge', points: all(fields(gauge.bytes!), 1).map((p) => numberPoint(p.bytes!)) });
  if (sum) {
    const s = fields(sum.bytes!);
    Object.assign(metric, { kind: 'sum', points: all(s, 1).map((p) => numberPoint(p.bytes!)), temporality: Number(one(s, 2)?.varint ?? 0n), monotonic: one(s, 3)?.varint === 1n });
  }
  if (histogram) {
    const h = fields(histogram.bytes!);
    Object.assign(metric, { kind: 'histogram', points: all(h, 1).map((p) => histogramPoint(p.bytes!)), temporality: Number(one(h, 2)?.varint ?? 0n) });
  }
  return metric;
}

function decodeProtobuf(body: Buffer, contentType: string): ReceivedExport {
  const received: ReceivedExport = { contentType, headers: {}, resource: {}, scopes: [], metrics: [] };
  for (const rm of all(fields(body), 1)) {
    const rmf = fields(rm.bytes!);
    const resource = one(rmf, 1);
    if (resource) Object.assign(received.resource, keyValues(all(fields(resource.bytes!), 1)));
    for (const sm of all(rmf, 2)) {
      const smf = fields(sm.bytes!);
      const scope = one(smf, 1);
      if (scope) received.scopes.push(str(one(fields(scope.bytes!), 1)));
      for (const m of all(smf, 2)) received.metrics.push(protobufMetric(m.bytes!));
    }
  }
  return received;
}

// --- OTLP/JSON ------------------------------------------------------------------------------------------

type Json = Record<string, any>; // OTLP/JSON as parsed: checked by the assertions, not here

function jsonAttributes(list: Json[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list ?? []) {
    const v = kv['value'] ?? {};
    out[kv['key']] = v['stringValue'] ?? v['boolValue'] ?? (v['intValue'] !== undefined ? Number(v['intValue']) : v['doubleValue'] !== undefined ? Number(v['doubleValue']) : '');
  }
  return out;
}

function decodeJson(body: Buffer, contentType: string): ReceivedExport {
  const doc = JSON.parse(body.toString('utf8')) as Json;
  const received: ReceivedExport = { contentType, headers: {}, resource: {}, scopes: [], metrics: [] };
  for (const rm of doc['resourceMetrics'] ?? []) {
    Object.assign(received.resource, jsonAttributes(rm['resource']?.['attributes']));
    for (const sm of rm['scopeMetrics'] ?? []) {
      received.scopes.push(sm['scope']?.['name'] ?? '');
      for (const m of sm['metrics'] ?? []) {
        const metric: ReceivedMetric = { name: m['name'], unit: m['unit'] ?? '', kind: 'other', points: [] };
        const numberPoints = (points: Json[]) =>
          points.map((p) => ({ attributes: jsonAttributes(p['attributes']), value: p['asDouble'] !== undefined ? Number(p['asDouble']) : p['asInt'] !== undefined ? Number(p['asInt']) : undefined }));
        if (m['gauge']) Object.assign(metric, { kind: 'gauge', points: numberPoints(m['gauge']['dataPoints'] ?? []) });
        if (m['sum']) Object.assign(metric, { kind: 'sum', points: numberPoints(m['sum']['dataPoints'] ?? []), temporality: Number(m['sum']['aggregationTemporality']), monotonic: m['sum']['isMonotonic'] === true });
        if (m['histogram']) {
          Object.assign(metric, {
            kind: 'histogram',
            temporality: Number(m['histogram']['aggregationTemporality']),
            points: (m['histogram']['dataPoints'] ?? []).map((p: Json) => ({
              attributes: jsonAttributes(p['attributes']),
              count: Number(p['count']),
              sum: p['sum'] === undefined ? undefined : Number(p['sum']),
              bucketCounts: (p['bucketCounts'] ?? []).map(Number),
              bounds: (p['explicitBounds'] ?? []).map(Number),
            })),
          });
        }
        received.metrics.push(metric);
      }
    }
  }
  return received;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

/** Starts the receiver on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/v1/metrics') return res.writeHead(404).end();
      const body = await readBody(req);
      const type = String(req.headers['content-type'] ?? '');
      const json = type.includes('json');
      exports.push({ ...(json ? decodeJson(body, type) : decodeProtobuf(body, type)), headers: req.headers });
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : undefined);
    })().catch((error: unknown) => res.writeHead(400).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    latest(name) {
      for (let i = exports.length - 1; i >= 0; i--) {
        const found = exports[i]!.metrics.find((m) => m.name === name);
        if (found) return found;
      }
      return undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
