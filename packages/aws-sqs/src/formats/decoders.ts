/** An event ready for the SDK: JSON text (pulling id already appended), a plain text line, or an object. */
export type OutEvent = string | Record<string, unknown>;

/** Bytes of one decompressed object in, events out; `end` throws if the object was truncated or malformed. */
export interface ObjectDecoder {
  push(chunk: Buffer): void;
  end(): void;
}
