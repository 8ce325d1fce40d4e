import { OutputError } from '../errors/collector-error.js';
import { sleep } from '../runtime/abortable-sleep.js';
import type { Delivery, DeliveryRecord } from './types.js';

/** Column types of Devo's lookup protocol (python-sdk docs/sender/lookup.md). */
export type LookupColumnType = 'str' | 'int' | 'int4' | 'int8' | 'float' | 'bool' | 'ip4';
export type LookupValue = string | number | boolean | null | undefined;
/** A row: values in `headers` order, or an object keyed by column name. */
export type LookupRow = readonly LookupValue[] | Readonly<Record<string, LookupValue>>;

export interface LookupPublication {
  /** `^[A-Za-z0-9_]+$`. */
  name: string;
  /** Column names (type `str`) or `{ name, type }`; the key column is sent first whatever its position. */
  headers: readonly (string | { name: string; type: LookupColumnType })[];
  /** The key column (types str, int or ip4, as the DCSDK allows). */
  key: string;
  /** Rows to add (FULL: the whole table; INC: rows to upsert). */
  rows?: readonly LookupRow[];
  /** `FULL` replaces the table, `INC` upserts. */
  action: 'FULL' | 'INC';
  /** Rows to delete by key (`my.lookup.data.<name>.DELETE`); a row may hold the key only. */
  delete?: readonly LookupRow[];
  /** Pause after START and before END (5 s in Devo's SDK, so the server sees the control lines apart). */
  delayMs?: number;
  /** Defaults to `str(time.time())` as Devo's SDK does, e.g. `1715000000.123`. */
  lookupId?: string;
  signal?: AbortSignal;
}

interface Column {
  name: string;
  type: LookupColumnType;
}

/** clean_field: numbers stay bare, anything else is quoted with `"` doubled (the DCSDK always escapes). */
export function lookupField(value: LookupValue): string {
  const text = value === null || value === undefined ? '' : String(value).trim();
  if (/^-?\d+((\.\d+)*)$/.test(text)) return text;
  return `"${text.replaceAll('"', '""')}"`;
}

/** `[{"KEY":{"type":"str","key":true}},{"HEX":{"type":"str"}}]`: key first, then the others in order. */
export function lookupHeaders(columns: readonly Column[], key: string): string {
  const keyColumn = columns.find((c) => c.name === key)!;
  const rest = columns.filter((c) => c.name !== key);
  return JSON.stringify([{ [keyColumn.name]: { type: keyColumn.type, key: true } }, ...rest.map((c) => ({ [c.name]: { type: c.type } }))]);
}

function rowLine(row: LookupRow, columns: readonly Column[], key: string, keyOnlyAllowed: boolean): string {
  const values: LookupValue[] = Array.isArray(row)
    ? (row as readonly LookupValue[]).slice()
    : columns.map((c) => (row as Readonly<Record<string, LookupValue>>)[c.name]);
  const keyIndex = columns.findIndex((c) => c.name === key);
  // A DELETE row may hold the key alone (`['blue']` or `{ KEY: 'blue' }`).
  const keyOnly = keyOnlyAllowed && (Array.isArray(row) ? row.length === 1 : Object.keys(row).length === 1);
  if (keyOnly) return lookupField(Array.isArray(row) ? values[0] : values[keyIndex]);
  const fields = [lookupField(values[keyIndex])];
  columns.forEach((c, i) => {
    if (c.name !== key) fields.push(lookupField(values[i]));
  });
  return fields.join(',');
}

/**
 * The control and data lines of one lookup publication, in sending order (without the pauses):
 * `my.lookup.control.<name>.<FULL|INC>` START, `my.lookup.data.<name>[.DELETE]` rows, the control END.
 */
export function lookupRecords(p: LookupPublication): { start: DeliveryRecord; data: DeliveryRecord[]; end: DeliveryRecord } {
  if (!/^[A-Za-z0-9_]+$/.test(p.name)) throw new OutputError(609, `Invalid lookup name "${p.name}": letters, digits and _ only`);
  const columns: Column[] = p.headers.map((h) => (typeof h === 'string' ? { name: h, type: 'str' } : h));
  const keyColumn = columns.find((c) => c.name === p.key);
  if (!keyColumn) throw new OutputError(609, `Lookup ${p.name}: the key column ${p.key} is not among the headers`);
  if (!['str', 'int', 'ip4'].includes(keyColumn.type)) throw new OutputError(609, `Lookup ${p.name}: a key column must be of type str, int or ip4`);
  if (p.action !== 'FULL' && p.action !== 'INC') throw new OutputError(609, `Lookup ${p.name}: action must be FULL or INC`);
  const id = `${p.lookupId ?? String(Date.now() / 1000)}_${p.name}`;
  const headers = lookupHeaders(columns, p.key);
  const now = new Date();
  const control = (phase: 'START' | 'END'): DeliveryRecord => ({ tag: `my.lookup.control.${p.name}.${p.action}`, message: `${id}|${phase}|${headers}`, time: now });
  const data: DeliveryRecord[] = [];
  for (const row of p.rows ?? []) data.push({ tag: `my.lookup.data.${p.name}`, message: `${id}|${rowLine(row, columns, p.key, false)}`, time: now });
  for (const row of p.delete ?? []) data.push({ tag: `my.lookup.data.${p.name}.DELETE`, message: `${id}|${rowLine(row, columns, p.key, true)}`, time: now });
  return { start: control('START'), data, end: control('END') };
}

/**
 * Publishes a lookup with Devo's (legacy) lookup protocol through the `lookup` sender service: START,
 * a pause, the data lines, a pause, END. Each phase is acknowledged before the next one is sent, so the
 * order on the wire is guaranteed. Resolves once END is acknowledged.
 */
export async function publishLookup(delivery: Delivery, p: LookupPublication): Promise<{ lookupId: string; lines: number }> {
  const { start, data, end } = lookupRecords(p);
  const delay = p.delayMs ?? 5_000;
  const send = async (records: DeliveryRecord[]) => {
    const { delivered } = await delivery.submit(records, 'lookup');
    await delivered;
  };
  await send([start]);
  await sleep(delay, p.signal);
  const acks: Promise<void>[] = [];
  for (let i = 0; i < data.length; i += 1000) {
    const { delivered } = await delivery.submit(data.slice(i, i + 1000), 'lookup');
    acks.push(delivered);
  }
  await Promise.all(acks);
  await sleep(delay, p.signal);
  await send([end]);
  return { lookupId: start.message.slice(0, start.message.indexOf('|')), lines: data.length + 2 };
}
