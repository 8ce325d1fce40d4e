import * as zlib from 'node:zlib';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type Compressors } from 'hyparquet';

/** `PAR1`: the first (and last) four bytes of every Parquet file. */
export const PARQUET_MAGIC = 0x50415231;

export function isParquetHead(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.readUInt32BE(0) === PARQUET_MAGIC;
}

/** Codecs beyond hyparquet's own (uncompressed, Snappy): Node's zlib has GZIP, Brotli and (Node ≥ 22.15) Zstandard. */
const zstd = (zlib as { zstdDecompressSync?: (b: Uint8Array) => Buffer }).zstdDecompressSync;
const COMPRESSORS: Compressors = {
  GZIP: (input) => zlib.gunzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
  ...(zstd ? { ZSTD: (input: Uint8Array) => zstd(input) } : {}),
};

/** Parquet INT64 values arrive as BigInt, which JSON cannot write: a safe integer becomes a number, else a string. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v);
    return out;
  }
  return value;
}

/**
 * Reads a Parquet object row group by row group through `file` (byte ranges, e.g. S3 ranged GETs): only the
 * footer and one row group are in memory at a time. `onRows` receives each row group's rows as JSON-safe
 * objects and may wait (back-pressure) before the next row group is read.
 */
export async function readParquet(file: AsyncBuffer, onRows: (rows: Record<string, unknown>[]) => Promise<void>, signal: AbortSignal): Promise<{ rows: number; rowGroups: number }> {
  const metadata = await parquetMetadataAsync(file);
  let rowStart = 0;
  let rows = 0;
  for (const group of metadata.row_groups) {
    if (signal.aborted) throw new Error('stopped');
    const rowEnd = rowStart + Number(group.num_rows);
    let groupRows: Record<string, unknown>[] = [];
    await parquetRead({ file, metadata, rowStart, rowEnd, rowFormat: 'object', compressors: COMPRESSORS, onComplete: (r) => (groupRows = r) });
    rowStart = rowEnd;
    rows += groupRows.length;
    for (const row of groupRows) for (const key in row) row[key] = jsonSafe(row[key]);
    await onRows(groupRows);
  }
  return { rows, rowGroups: metadata.row_groups.length };
}
