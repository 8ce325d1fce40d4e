import { mkdir, open, readFile, readdir, rename, rm, chmod, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PersistenceError } from '../errors/collector-error.js';
import type { JsonObject, StateStore } from './state-store.js';
import { stateTextPieces, type SavedState } from './state-text.js';

const SUFFIX = '.json';

/** Maps a state key to a file name no config value can steer out of the directory. */
export function stateFileName(key: string): string {
  const safe = key
    .split(';')
    .map((part) => part.replace(/[^A-Za-z0-9_-]/g, '_') || '_')
    .join(';');
  return safe + SUFFIX;
}

/**
 * One JSON file per service under `directory_name` (`persistence.type: filesystem`), written atomically
 * (temp file, fsync, rename, fsync of the directory) with mode 0600.
 */
export class FilesystemStateStore implements StateStore {
  readonly kind = 'filesystem';
  private ready: Promise<void> | undefined;

  constructor(readonly directory: string) {}

  private ensureDirectory(): Promise<void> {
    this.ready ??= mkdir(this.directory, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined; // try again on the next save: the operator may fix the directory
        throw error;
      },
    );
    return this.ready;
  }

  async load(key: string): Promise<JsonObject | undefined> {
    return this.read(key, true);
  }

  /**
   * Reads like `load` but never touches the file: a corrupt one is reported and left where it is (for
   * `--check` and `--show-state`, which must not change what a running collector resumes from).
   */
  async peek(key: string): Promise<JsonObject | undefined> {
    return this.read(key, false);
  }

  private async read(key: string, moveCorruptAside: boolean): Promise<JsonObject | undefined> {
    const file = join(this.directory, stateFileName(key));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new PersistenceError(501, `Cannot read the state file ${file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      return parsed as JsonObject;
    } catch (error) {
      if (!moveCorruptAside) {
        throw new PersistenceError(502, `The state file ${file} is corrupt (${(error as Error).message}); a running collector will move it aside`, { cause: error });
      }
      // Keep the damaged file for inspection rather than overwrite it on the next save.
      const aside = `${file}.corrupt-${Date.now()}`;
      await rename(file, aside).catch(() => undefined);
      throw new PersistenceError(502, `The state file ${file} is corrupt (${(error as Error).message}); moved to ${aside}`, {
        cause: error,
      });
    }
  }

  async save(key: string, state: SavedState): Promise<void> {
    const file = join(this.directory, stateFileName(key));
    const temp = `${file}.tmp-${process.pid}`;
    // Taken now (the caller's snapshot): the pieces are written one by one, so the dedup keys' text (a few
    // MB, see PlainJsonString) is not copied into one text, nor that text into one Buffer.
    const pieces = stateTextPieces(state, 1);
    try {
      await this.ensureDirectory();
      const handle = await open(temp, 'w', 0o600);
      try {
        for (const piece of pieces) await writeText(handle, piece);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(temp, 0o600);
      await rename(temp, file);
      const dir = await open(this.directory, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new PersistenceError(503, `Cannot write the state file ${file}: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
      });
    }
  }

  async delete(key: string): Promise<void> {
    await rm(join(this.directory, stateFileName(key)), { force: true });
  }

  async keys(): Promise<string[]> {
    try {
      const names = await readdir(this.directory);
      return names.filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length));
    } catch {
      return [];
    }
  }

  async close(): Promise<void> {}
}

/**
 * Characters handed to one write: Node encodes a string into native memory of its own for the write (freed when
 * the write returns), so a long text (the dedup keys: 1.25 MB for Microsoft 365's 50,000 24-character keys) is written a slice
 * at a time (a slice of a flat string is not a copy) and only one slice's bytes exist at once.
 */
const WRITE_SLICE = 256 * 1024;

/** Writes a string as UTF-8 at the file's position; a short write is finished from a Buffer (a full disk fails there). */
async function writeText(handle: FileHandle, text: string): Promise<void> {
  let at = 0;
  while (at < text.length) {
    let end = Math.min(text.length, at + WRITE_SLICE);
    // Never between the two halves of a surrogate pair (each half alone would be written as U+FFFD).
    if (end < text.length && (text.charCodeAt(end - 1) & 0xfc00) === 0xd800) end++;
    const slice = at === 0 && end === text.length ? text : text.slice(at, end);
    const { bytesWritten } = await handle.write(slice, null, 'utf8');
    const size = Buffer.byteLength(slice, 'utf8');
    if (bytesWritten < size) await handle.writeFile(Buffer.from(slice, 'utf8').subarray(bytesWritten));
    at = end;
  }
}
