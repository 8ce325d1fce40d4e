import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSecret } from '@collector/sdk';
import { clearSecrets, FilesystemStateStore, MemoryStateStore, PersistenceError, RedisStateStore, stateFileName, type StateStore } from '@collector/sdk/host';
import { startRedis, type RedisServer } from '@collector/testkit';
import { PlainJsonString } from '../src/persistence/state-text.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  clearSecrets();
});

const stores: Record<string, () => StateStore> = {
  filesystem: () => new FilesystemStateStore(mkdtempSync(join(tmpdir(), 'state-'))),
  memory: () => new MemoryStateStore(),
  redis: () => new RedisStateStore({ host: redis.host, port: redis.port, prefix: `test:${Math.random()}:` }),
};

for (const [kind, make] of Object.entries(stores)) {
  describe(`${kind} state store`, () => {
    it('saves, loads, lists and deletes state by input;id;service key', async () => {
      const store = make();
      expect(await store.load('lark;1;audit_infos')).toBeUndefined();
      await store.save('lark;1;audit_infos', { checkpoint: 1700000000, dedup: ['a', 'b'] });
      await store.save('lark;1;audit_infos', { checkpoint: 1700000100, dedup: ['a', 'b', 'c'] });
      expect(await store.load('lark;1;audit_infos')).toEqual({ checkpoint: 1700000100, dedup: ['a', 'b', 'c'] });
      expect(await store.keys()).toEqual(['lark;1;audit_infos']);
      await store.delete('lark;1;audit_infos');
      expect(await store.load('lark;1;audit_infos')).toBeUndefined();
      await store.close();
    });

    it('never writes a registered secret', async () => {
      registerSecret('super-secret-value-42');
      const store = make();
      await store.save('x;1;y', { note: 'token super-secret-value-42 leaked' });
      expect(JSON.stringify(await store.load('x;1;y'))).not.toContain('super-secret-value-42');
      await store.close();
    });

    it('saves the dedup keys\' plain text as a string, and never writes a registered secret there either (a key, or across keys)', async () => {
      registerSecret('super-secret-value-42');
      registerSecret('key-7 key-8'); // a secret with a space: it spans two keys of the joined text
      const store = make();
      await store.save('x;1;y', { checkpoint: 5, dedup: new PlainJsonString('key-1 key-2 '), extra: { n: 1 } });
      expect(await store.load('x;1;y')).toEqual({ checkpoint: 5, dedup: 'key-1 key-2 ', extra: { n: 1 } });
      for (const keys of ['key-1 super-secret-value-42 key-3 ', 'key-6 key-7 key-8 key-9 ']) {
        await store.save('x;1;y', { checkpoint: 'super-secret-value-42', dedup: new PlainJsonString(keys), extra: { token: 'super-secret-value-42' } });
        const loaded = JSON.stringify(await store.load('x;1;y'));
        expect(loaded).not.toContain('super-secret-value-42');
        expect(loaded).not.toContain('key-7 key-8');
        expect(loaded).toContain('****');
      }
      await store.close();
    });
  });
}

describe('filesystem state files', () => {
  it('hold the dedup keys\' plain text as it is, not copied through JSON.stringify, and no secret in the file', async () => {
    registerSecret('super-secret-value-42');
    let copied = 0;
    class Watched extends PlainJsonString {
      override toJSON(): string {
        copied++;
        return super.toJSON();
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const store = new FilesystemStateStore(dir);
    const state = { version: 1, checkpoint: { t: 'a "quoted"\nvalue' }, dedup: new Watched('17 a-b 0b7c-4c3b '), extra: {} };
    await store.save('lark;1;audit_infos', state);
    expect(copied).toBe(0);
    const text = readFileSync(join(dir, 'lark;1;audit_infos.json'), 'utf8');
    expect(text).toBe(JSON.stringify({ ...state, dedup: '17 a-b 0b7c-4c3b ' }, null, 1)); // the layout of earlier releases
    // Keys that hold a secret are written through JSON.stringify and redacted like any other value.
    await store.save('lark;1;audit_infos', { ...state, dedup: new Watched('17 super-secret-value-42 ') });
    expect(copied).toBe(1);
    const redacted = readFileSync(join(dir, 'lark;1;audit_infos.json'), 'utf8');
    expect(redacted).not.toContain('super-secret-value-42');
    expect((await store.load('lark;1;audit_infos'))!['dedup']).toBe('17 **** ');
  });

  it('hold long texts exactly, written a slice at a time (a surrogate pair across a slice\'s end, multi-byte characters, 50,000 keys)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const store = new FilesystemStateStore(dir);
    const keys = Array.from({ length: 50_000 }, (_, i) => `k${String(i).padStart(42, '0')} `).join('');
    // '{\n "a": "' is 9 characters: the emoji's first half is the last character of the first 256 KiB slice.
    const state = { a: 'x'.repeat(256 * 1024 - 10) + '\u{1f600}' + 'é中'.repeat(200_000), dedup: new PlainJsonString(keys), extra: {} };
    await store.save('lark;1;audit_infos', state);
    expect(readFileSync(join(dir, 'lark;1;audit_infos.json'), 'utf8')).toBe(JSON.stringify(state, null, 1));
    expect((await store.load('lark;1;audit_infos'))!['dedup']).toBe(keys);
  });

  it('are mode 0600 and leave no temporary file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const store = new FilesystemStateStore(dir);
    await store.save('lark;964383;audit_infos', { checkpoint: 1 });
    const files = readdirSync(dir);
    expect(files).toEqual(['lark;964383;audit_infos.json']);
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
  });

  it('sanitise ids so no config value can escape the directory', () => {
    expect(stateFileName('lark;../../etc;passwd')).toBe('lark;______etc;passwd.json');
    expect(stateFileName('a/b;c\\d;e f')).toBe('a_b;c_d;e_f.json');
    expect(stateFileName('x;;y')).toBe('x;_;y.json');
  });

  it('move a corrupt file aside and report PersistenceError 502', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    writeFileSync(join(dir, 'lark;1;audit_infos.json'), '{"checkpoint": 17');
    const store = new FilesystemStateStore(dir);
    const error = await store.load('lark;1;audit_infos').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistenceError);
    expect((error as PersistenceError).id).toBe(502);
    expect(existsSync(join(dir, 'lark;1;audit_infos.json'))).toBe(false);
    const aside = readdirSync(dir).find((f) => f.includes('.corrupt-'))!;
    expect(readFileSync(join(dir, aside), 'utf8')).toBe('{"checkpoint": 17');
    expect(await store.load('lark;1;audit_infos')).toBeUndefined();
  });

  it('report PersistenceError 503 when the directory cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    writeFileSync(join(dir, 'blocker'), '');
    // A path below a regular file can never be created, whoever runs the test (root included).
    const store = new FilesystemStateStore(join(dir, 'blocker', 'state'));
    const error = await store.save('a;1;b', { x: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistenceError);
    expect((error as PersistenceError).id).toBe(503);
  });
});

describe('redis state store', () => {
  it('reports PersistenceError 511 when the server is unreachable', async () => {
    const store = new RedisStateStore({ host: '127.0.0.1', port: 1, prefix: 'x:' });
    const error = await store.load('a;1;b').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistenceError);
    expect((error as PersistenceError).id).toBe(511);
    await store.close();
  });
});
