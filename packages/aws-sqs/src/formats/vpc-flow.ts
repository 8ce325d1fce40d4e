import { fieldPrefixes, jsonString } from './serialize.js';

/** The default (version 2) VPC flow log format, used when a file has no header line. */
export const VPC_V2_FIELDS = ['version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status'] as const;

/** A header line names fields (`version account-id ...`); a record starts with a number (the version). */
export function isVpcHeader(line: string): boolean {
  const first = line.slice(0, line.indexOf(' ') === -1 ? line.length : line.indexOf(' '));
  return first.length > 0 && !/^\d/.test(first) && /^[a-z][a-z0-9_-]*$/i.test(first);
}

/**
 * Turns space-separated flow log records into JSON objects with the format's field names, values as
 * written (strings, `-` for a missing value). Extra values beyond the named fields are kept as `field_<n>`.
 */
export class VpcRecordBuilder {
  private names: string[];
  private prefixes: string[];

  constructor(fields: readonly string[] = VPC_V2_FIELDS) {
    this.names = [...fields];
    this.prefixes = fieldPrefixes(this.names);
  }

  setFields(fields: readonly string[]): void {
    this.names = [...fields];
    this.prefixes = fieldPrefixes(this.names);
  }

  /** `{"version":"2",...,` + suffix + `}`: the record as JSON text with the pulling id appended. */
  build(line: string, suffix: string): string {
    const values = line.split(' ');
    const plain = line.indexOf('"') === -1 && line.indexOf('\\') === -1;
    let out = '{';
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      if (value.length === 0) continue; // runs of spaces
      const prefix = n < this.prefixes.length ? this.prefixes[n]! : `${n === 0 ? '' : ','}"field_${n + 1}":`;
      out += prefix + (plain ? `"${value}"` : jsonString(value));
      n++;
    }
    return n === 0 ? `{${suffix}}` : `${out},${suffix}}`;
  }
}
