import type { ObjectDecoder, OutEvent } from '../formats/decoders.js';

/** What a processor's decoder writes to. */
export interface ProcessorContext {
  /** `"@devo_pulling_id":"..."` (and environment) to append to every JSON object text. */
  suffix: string;
  out(event: OutEvent): void;
  /**
   * Set in a processing thread when records go on untouched: a compact JSON object record (valid UTF-8) may
   * be handed over as its bytes instead of `out(text + suffix)` (see formats/raw-json.ts).
   */
  raw?(bytes: Buffer, start: number, end: number): void;
}

/** The JSON type of one processor option (`file_format.config.<key>`), checked at start-up. */
export type OptionType = 'string' | 'boolean' | 'integer' | 'string[]' | 'object';

/**
 * A processor (`file_format.type`): how the bytes of one object become records. Stream processors are fed
 * the decompressed bytes chunk by chunk; a random-access one (Parquet) reads the object by byte ranges.
 */
export type ProcessorDefinition =
  | {
      input: 'stream';
      summary: string;
      options: Record<string, OptionType>;
      create(config: Record<string, unknown>, ctx: ProcessorContext): ObjectDecoder;
      /** True when, with this config, JSON object records are forwarded as written (`ctx.raw` can take them). */
      forwardsJson?(config: Record<string, unknown>): boolean;
    }
  | { input: 'random-access'; summary: string; options: Record<string, OptionType> };
