import { afterEach, describe, expect, it } from 'vitest';
import { registerSecret } from '@collector/sdk';
import { clearSecrets, redact } from '@collector/sdk/host';
import { PlainJsonString, stateTextPieces, type SavedState } from '../src/persistence/state-text.js';

afterEach(() => clearSecrets());

const states: SavedState[] = [
  {},
  { version: 1 },
  { version: 1, reset: null, checkpoint: { from: '2026-12-07T00:00:00Z', pages: [1, [2, { a: 'b' }], []], empty: {} }, dedup: new PlainJsonString('17 a-b '), extra: { n: 'x\ny "z" \\ é中' }, updated_at: 'now' },
  { dedup: new PlainJsonString('') },
  { a: new PlainJsonString('1 '), b: undefined, c: new PlainJsonString('2 3 '), d: [null, true, 1.5] },
  { checkpoint: null, dedup: ['a b', 'c'] },
];

describe('a state\'s text in pieces', () => {
  it('is exactly what JSON.stringify writes (indented by 1 and not), redacted', () => {
    for (const state of states) {
      for (const indent of [0, 1]) expect(stateTextPieces(state, indent).join('')).toBe(JSON.stringify(state, null, indent));
    }
    registerSecret('hunter2-secret');
    const secretive = { checkpoint: 'hunter2-secret', dedup: new PlainJsonString('a hunter2-secret b '), extra: { k: ['hunter2-secret'] } };
    for (const indent of [0, 1]) {
      const text = stateTextPieces(secretive, indent).join('');
      expect(text).toBe(redact(JSON.stringify(secretive, null, indent)));
      expect(text).not.toContain('hunter2-secret');
    }
  });

  it('keeps a plain string that holds no secret as a piece of its own (not copied into a larger text)', () => {
    const keys = 'k1 k2 k3 ';
    const pieces = stateTextPieces({ version: 1, dedup: new PlainJsonString(keys), extra: {} }, 1);
    expect(pieces).toEqual(['{\n "version": 1,\n "dedup": "', keys, '",\n "extra": {}\n}']);
    expect(pieces[1]).toBe(keys);
  });
});
