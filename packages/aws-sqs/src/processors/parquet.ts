import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as zlib from 'node:zlib';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type ColumnData, type Compressors, type FileMetaData } from 'hyparquet';
import type { OutEvent } from '../formats/decoders.js';
import { jsonString } from '../formats/serialize.js';

/** Codecs beyond hyparquet's own (uncompressed, Snappy): Node's zlib has GZIP, Brotli and (Node ≥ 22.15) Zstandard. */
const zstd = (zlib as { zstdDecompressSync?: (b: Uint8Array) => Buffer }).zstdDecompressSync;
const COMPRESSORS: Compressors = {
  GZIP: (input) => zlib.gunzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
  ...(zstd ? { ZSTD: (input: Uint8Array) => zstd(input) } : {}),
};

/**
 * A full garbage collection between row groups. Decoding a row group allocates several times its decoded
 * size in short-lived buffers and strings; V8 grows its heap lazily with that rate (the live data stays
 * small), so without it a 200 MB flow log object peaks far above the collector's usual RSS. One collection
 * per row group (100,000 rows or more) costs a few milliseconds.
 */
let gcFunction: (() => void) | null | undefined;
function collectGarbage(): void {
  // Exposed on first use only: nothing changes for a collector that never reads Parquet.
  if (gcFunction === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as () => void;
    } catch {
      gcFunction = null;
    }
  }
  gcFunction?.();
}

/** Columns of a flat file decoded per read (then garbage is collected). */
const COLUMNS_PER_READ = 4;

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

/** One value as JSON text (the flat path writes rows without building objects). */
function jsonValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    default:
      return JSON.stringify(jsonSafe(value)) ?? 'null';
  }
}

/** Every column a top-level primitive (VPC flow logs): rows can be written column by column. */
function isFlat(metadata: FileMetaData): boolean {
  const [root, ...columns] = metadata.schema;
  return columns.length === (root?.num_children ?? -1) && columns.every((c) => !c.num_children && c.repetition_type !== 'REPEATED');
}

/** Walks the decoded chunks of one column of a row group in row order. */
class ColumnCursor {
  private chunk = 0;
  private offset = 0;
  constructor(private readonly chunks: ColumnData[]) {
    chunks.sort((a, b) => a.rowStart - b.rowStart);
  }
  next(): unknown {
    let c = this.chunks[this.chunk];
    while (c && this.offset >= c.columnData.length) {
      this.chunk++;
      this.offset = 0;
      c = this.chunks[this.chunk];
    }
    return c ? c.columnData[this.offset++] : undefined;
  }
}

/**
 * Reads a Parquet object row group by row group through `file` (byte ranges, e.g. S3 ranged GETs): only the
 * footer and one row group's columns are in memory at a time. Flat files (every column a primitive, as VPC
 * flow logs) become JSON text straight from the decoded columns, with `suffix` appended, handed on `batch`
 * rows at a time; others become objects, a row group at a time. `onRows` may wait (back-pressure).
 */
export async function readParquet(
  file: AsyncBuffer,
  suffix: string,
  onRows: (rows: OutEvent[]) => Promise<void>,
  signal: AbortSignal,
  batch = 1000,
): Promise<{ rows: number; rowGroups: number }> {
  const metadata = await parquetMetadataAsync(file);
  const flat = isFlat(metadata);
  const names = metadata.schema.slice(1).map((c) => c.name);
  const prefixes = names.map((n, i) => `${i === 0 ? '{' : ','}${JSON.stringify(n)}:`);
  let rowStart = 0;
  let rows = 0;
  for (const group of metadata.row_groups) {
    if (signal.aborted) throw new Error('stopped');
    const rowEnd = rowStart + Number(group.num_rows);
    if (flat) {
      const chunks = new Map<string, ColumnData[]>(names.map((n) => [n, []]));
      // A few columns at a time, collecting in between: the garbage of decoding stays that of a few columns.
      for (let c = 0; c < names.length; c += COLUMNS_PER_READ) {
        await parquetRead({ file, metadata, rowStart, rowEnd, columns: names.slice(c, c + COLUMNS_PER_READ), compressors: COMPRESSORS, onChunk: (d) => chunks.get(d.columnName)?.push(d) });
        collectGarbage();
      }
      const cursors = names.map((n) => new ColumnCursor(chunks.get(n)!));
      // Joined, not concatenated: `+=` would keep each row as a tree of pieces (V8 cons strings), several
      // times the size of the flat text. Rows are written and handed on `batch` at a time, so that only the
      // decoded columns of the row group stay in memory, not its rows as text too.
      const parts: string[] = new Array<string>(cursors.length * 2 + 1);
      parts[parts.length - 1] = cursors.length === 0 ? `{${suffix}}` : `,${suffix}}`;
      for (let r = rowStart; r < rowEnd; ) {
        const out: OutEvent[] = [];
        for (const stop = Math.min(rowEnd, r + batch); r < stop; r++) {
          for (let c = 0; c < cursors.length; c++) {
            parts[2 * c] = prefixes[c]!;
            parts[2 * c + 1] = jsonValue(cursors[c]!.next());
          }
          out.push(parts.join(''));
        }
        rows += out.length;
        await onRows(out);
      }
      chunks.clear();
    } else {
      let groupRows: Record<string, unknown>[] = [];
      await parquetRead({ file, metadata, rowStart, rowEnd, rowFormat: 'object', compressors: COMPRESSORS, onComplete: (r) => (groupRows = r) });
      for (const row of groupRows) for (const key in row) row[key] = jsonSafe(row[key]);
      rows += groupRows.length;
      await onRows(groupRows);
    }
    rowStart = rowEnd;
    collectGarbage();
  }
  return { rows, rowGroups: metadata.row_groups.length };
}
