/** `PAR1`: the first (and last) four bytes of every Parquet file. Apart from the decoder, so text paths need not load hyparquet. */
const PARQUET_MAGIC = 0x50415231;

export function isParquetHead(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.readUInt32BE(0) === PARQUET_MAGIC;
}
