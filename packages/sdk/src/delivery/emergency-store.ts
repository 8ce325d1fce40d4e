import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DeliveryRecord, SenderService } from './types.js';

/** One record as persisted: short keys, one JSON object a line. */
interface StoredRecord {
  s: SenderService;
  t: string;
  m: string;
  d?: number;
}

export interface RecoveredFile {
  file: string;
  batches: { service: SenderService; records: DeliveryRecord[] }[];
  count: number;
}

function safeName(output: string): string {
  return output.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Emergency persistence of one output's unacknowledged records, under `state/delivery/`: written on stop
 * (fsync'd, mode 0600, atomically renamed) and read back at the next start, where they are sent before
 * anything else. A file is deleted only once every record in it was acknowledged (or persisted again).
 */
export class EmergencyStore {
  constructor(private readonly dir: string) {}

  /** Writes `records` to a new file and returns its path. Throws when the disk refuses. */
  save(output: string, records: readonly { service: SenderService; record: DeliveryRecord }[]): string | undefined {
    if (records.length === 0) return undefined;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const name = `${safeName(output)}.${Date.now()}.${process.pid}.${Math.floor(Math.random() * 1e6)}`;
    const tmp = join(this.dir, `${name}.tmp`);
    const file = join(this.dir, `${name}.jsonl`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      let chunk = '';
      for (const { service, record } of records) {
        const stored: StoredRecord = { s: service, t: record.tag, m: record.message, ...(record.time ? { d: record.time.getTime() } : {}) };
        chunk += `${JSON.stringify(stored)}\n`;
        if (chunk.length > 1 << 20) {
          writeSync(fd, chunk);
          chunk = '';
        }
      }
      if (chunk) writeSync(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    return file;
  }

  /** Every file left for `output`, oldest first, grouped into batches of one sender service. */
  load(output: string): RecoveredFile[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const prefix = `${safeName(output)}.`;
    const files = names.filter((n) => n.startsWith(prefix) && n.endsWith('.jsonl') && /^\d+\./.test(n.slice(prefix.length))).sort();
    return files.map((n) => {
      const file = join(this.dir, n);
      const batches: RecoveredFile['batches'] = [];
      let count = 0;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        let stored: StoredRecord;
        try {
          stored = JSON.parse(line) as StoredRecord;
        } catch {
          continue; // a torn last line cannot happen (rename after fsync), but never crash on one
        }
        const record: DeliveryRecord = { tag: stored.t, message: stored.m, ...(stored.d !== undefined ? { time: new Date(stored.d) } : {}) };
        const last = batches.at(-1);
        if (last && last.service === stored.s && last.records.length < 1000) last.records.push(record);
        else batches.push({ service: stored.s, records: [record] });
        count++;
      }
      return { file, batches, count };
    });
  }

  remove(file: string): void {
    rmSync(file, { force: true });
  }
}
