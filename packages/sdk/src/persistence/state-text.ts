import { redact } from '../secrets/redactor.js';
import type { JsonValue } from './json-value.js';

/**
 * A string value whose producer guarantees that no character in it needs an escape in JSON (no `"`, `\`,
 * control character or UTF-16 surrogate): a state writes it between quotes as it is, instead of copying it
 * through `JSON.stringify` (the acknowledged dedup window: up to a few MB of keys, saved at every commit that
 * writes the keys). `JSON.stringify` of a state holding one writes the same text (`toJSON`).
 */
export class PlainJsonString {
  constructor(readonly text: string) {}

  toJSON(): string {
    return this.text;
  }
}

/** What a store saves: a JSON object whose top-level values may also be `PlainJsonString`s. */
export type SavedState = { [key: string]: JsonValue | PlainJsonString | undefined };

/**
 * The state's text, redacted, in pieces to be written one after the other: exactly
 * `redact(JSON.stringify(state, null, indent))` when no secret is found, without building that text.
 *
 * The JSON around each top-level `PlainJsonString` is built and redacted as one text per stretch between
 * them, as before. A plain string is not copied: it is only searched for the registered secrets (the same
 * `redact`, which returns its argument when nothing matches); one that holds a secret is written through
 * `JSON.stringify` and redacted like the rest. So no registered secret is written, in any value. (A match
 * that would run from the JSON around a plain string into it has to contain that string's opening or closing
 * quote: a secret with a `"` is not found inside any JSON string value, plain or not, as before.)
 */
export function stateTextPieces(state: SavedState, indent: number): string[] {
  const pieces: string[] = [];
  const newline = indent > 0 ? '\n' + ' '.repeat(indent) : '';
  const colon = indent > 0 ? ': ' : ':';
  let text = '';
  let members = 0;
  for (const [name, value] of Object.entries(state)) {
    const plain = value instanceof PlainJsonString && redact(value.text) === value.text;
    const json = plain ? undefined : (JSON.stringify(value, null, indent) as string | undefined);
    if (!plain && json === undefined) continue; // an undefined value: JSON.stringify leaves the member out
    text += (members++ === 0 ? '{' : ',') + newline + JSON.stringify(name) + colon;
    if (plain) {
      pieces.push(redact(text + '"'), value.text);
      text = '"';
    } else {
      // Nested lines one level deeper, as JSON.stringify indents a member of the top-level object (no JSON
      // string holds a raw newline: every newline in the text is layout).
      text += indent > 0 ? json!.replaceAll('\n', newline) : json;
    }
  }
  text += members === 0 ? '{}' : indent > 0 ? '\n}' : '}';
  pieces.push(redact(text));
  return pieces;
}
