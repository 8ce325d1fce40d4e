import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';

/**
 * VPC flow log records as AWS delivers them in Parquet: the default format's fields with `_` for `-`
 * (`account_id`, `interface_id`, `log_status`), 64-bit counters and times. `interface_id` identifies a row.
 */
export function vpcParquet(rows: number, options: { rowGroupSize?: number; codec?: 'SNAPPY' | 'GZIP'; prefix?: string } = {}): { body: Buffer; ids: string[] } {
  const ids = Array.from({ length: rows }, (_, i) => `eni-${options.prefix ?? 'p'}${String(i).padStart(12, '0')}`);
  const n = (f: (i: number) => number) => Array.from({ length: rows }, (_, i) => f(i));
  const big = (f: (i: number) => number) => Array.from({ length: rows }, (_, i) => BigInt(f(i)));
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'version', data: n(() => 2), type: 'INT32' },
      { name: 'account_id', data: ids.map(() => '123456789012'), type: 'STRING' },
      { name: 'interface_id', data: ids, type: 'STRING' },
      { name: 'srcaddr', data: ids.map((_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`), type: 'STRING' },
      { name: 'dstaddr', data: ids.map(() => '10.1.0.5'), type: 'STRING' },
      { name: 'srcport', data: n((i) => 1024 + (i % 60000)), type: 'INT32' },
      { name: 'dstport', data: n(() => 443), type: 'INT32' },
      { name: 'protocol', data: n(() => 6), type: 'INT32' },
      { name: 'packets', data: big((i) => 10 + (i % 7)), type: 'INT64' },
      { name: 'bytes', data: big((i) => 4000 + i), type: 'INT64' },
      { name: 'start', data: big(() => 1714564800), type: 'INT64' },
      { name: 'end', data: big(() => 1714564860), type: 'INT64' },
      { name: 'action', data: ids.map((_, i) => (i % 5 === 0 ? 'REJECT' : 'ACCEPT')), type: 'STRING' },
      { name: 'log_status', data: ids.map(() => 'OK'), type: 'STRING' },
    ],
    rowGroupSize: options.rowGroupSize ?? 1000,
    codec: options.codec ?? 'SNAPPY',
    ...(options.codec === 'GZIP' ? { compressors: { GZIP: (input: Uint8Array) => gzipSync(input) } } : {}),
  });
  return { body: Buffer.from(buffer), ids };
}
