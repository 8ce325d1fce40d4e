import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
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
 * and while the output stays down (fsync'd, mode 0600, atomically renamed), and sent before anything newer
 * once the output is back or at the next start. A file is deleted only once every record in it was acknowledged (or persisted again).
 */
export class EmergencyStore {
  /** Last time stamp used in a file name: strictly increasing, so names sort in the order they were written. */
  private lastStamp = 0;

  constructor(readonly dir: string) {}

  /** Writes `records` to a new file and returns its path. Throws when the disk refuses. */
  save(output: string, records: readonly { service: SenderService; record: DeliveryRecord }[]): string | undefined {
    if (records.length === 0) return undefined;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    const name = `${safeName(output)}.${this.lastStamp}.${process.pid}.${Math.floor(Math.random() * 1e6)}`;
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
    this.syncDir();
    return file;
  }

  /** fsync of the directory: the rename (and a deletion) survives a power loss too. */
  private syncDir(): void {
    try {
      const fd = openSync(this.dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Not every platform can fsync a directory; the file itself is already fsync'd.
    }
  }

  /** The files left for `output`, oldest first (names sort by their strictly increasing time stamp). */
  list(output: string): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const prefix = `${safeName(output)}.`;
    return names
      .filter((n) => n.startsWith(prefix) && n.endsWith('.jsonl') && /^\d+\./.test(n.slice(prefix.length)))
      .sort((a, b) => stamp(a, prefix) - stamp(b, prefix) || (a < b ? -1 : 1))
      .map((n) => join(this.dir, n));
  }

  /** Size in bytes of a file (0 when it is gone). */
  size(file: string): number {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  }

  /** Number of records in a file without parsing them (one a line). */
  count(file: string): number {
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch {
      return 0;
    }
    let n = 0;
    for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) n++;
    return n;
  }

  /** Every file left for `output`, oldest first, grouped into batches of one sender service. */
  load(output: string): RecoveredFile[] {
    return this.list(output).map((file) => this.loadFile(file));
  }

  /** One file's records, grouped into batches of one sender service (at most `batchSize` records). */
  loadFile(file: string, batchSize = 1000): RecoveredFile {
    const batches: RecoveredFile['batches'] = [];
    let count = 0;
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return { file, batches, count }; // deleted meanwhile: nothing left to send
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let stored: StoredRecord;
      try {
        stored = JSON.parse(line) as StoredRecord;
      } catch {
        continue; // a torn last line cannot happen (rename after fsync), but never crash on one
      }
      const record: DeliveryRecord = { tag: stored.t, message: stored.m, ...(stored.d !== undefined ? { time: new Date(stored.d) } : {}) };
      const last = batches.at(-1);
      if (last && last.service === stored.s && last.records.length < batchSize) last.records.push(record);
      else batches.push({ service: stored.s, records: [record] });
      count++;
    }
    return { file, batches, count };
  }

  remove(file: string): void {
    rmSync(file, { force: true });
    this.syncDir();
  }
}

/** The time stamp in a file name after `prefix` (`<output>.<stamp>.<pid>.<n>.jsonl`). */
function stamp(name: string, prefix: string): number {
  return Number(name.slice(prefix.length).split('.')[0]);
}
