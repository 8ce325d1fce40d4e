import { defineService, recordField } from '@collector/sdk';
import type { DarktraceClient } from '../client.js';
import { checkOptions, configuredStartKey, flagParams, optionProperties, serviceBaseUrl, startTimeResetMessage, type OptionSpec, type TimeSlotOptions } from '../config.js';
import { pullTimeSlots, slotCheckpointTime, type SlotCheckpoint } from './time-slots.js';

/** A model breach as /modelbreaches returns it (only the keys the collector reads are typed). */
export interface ModelBreach {
  pbid: number;
  time: number;
  creationTime?: number;
  [key: string]: unknown;
}

const PATH = '/modelbreaches';

/**
 * `creationtime=true` makes /modelbreaches select on `creationTime` instead of the breach's `time`: a breach
 * Darktrace creates hours after its `time` then falls in the slot being read, not in one read long ago.
 * The look-back only covers the moments a breach takes to become visible after its creation.
 */
const spec = {
  lookbackMinutes: 60,
  flags: { creationtime: true, expandenums: true, historicmodelonly: true, includeacknowledged: true, includebreachurl: true },
} satisfies OptionSpec;

/** The boolean query switches of /modelbreaches the config exposes, all on by default. */
export const MODEL_BREACH_FLAGS = Object.keys(spec.flags);

/**
 * A breach's dedup key: its pbid, which increases with every breach (the natural unique key, and what makes
 * the look-back overlap safe). Reads a JsonRecord (as pulled) or a parsed breach alike.
 */
export function modelBreachKey(breach: unknown): string | undefined {
  const pbid = recordField(breach, 'pbid');
  return pbid !== undefined ? String(pbid) : undefined;
}

export const modelBreachesService = defineService<DarktraceClient, TimeSlotOptions, SlotCheckpoint>({
  tag: 'edr.darktrace.respond.model_breach',
  moduleName: 'CollectorDarktracePuller',
  options: { type: 'object', properties: optionProperties(spec) },
  init: (ctx) => checkOptions(ctx, spec),
  resetKey: configuredStartKey,
  resetMessage: startTimeResetMessage,
  dedupKey: modelBreachKey,
  dedupWindow: 50_000,
  checkpointTime: slotCheckpointTime,
  async *pull(ctx, checkpoint) {
    // Breaches are forwarded as Darktrace sent them: not parsed, only their pbid read (the dedup key).
    yield* pullTimeSlots<unknown>(ctx, checkpoint, async (start, end, attempt) => {
      const params: [string, string | number][] = [['starttime', start.getTime()], ['endtime', end.getTime()], ...flagParams(ctx.options, spec.flags)];
      return ctx.client.getRecords(ctx.http, PATH, params, { phase: 'pull', emptyOn404: [], baseUrl: serviceBaseUrl(ctx.options), timeoutMs: ctx.options.request_timeout_in_seconds * 1000, ...attempt }, ['pbid']);
    });
  },
  async probe(ctx) {
    const now = Date.now();
    await ctx.client.getJson(ctx.http, PATH, [['starttime', now - 60_000], ['endtime', now], ['minimal', 'true']], { phase: 'setup', emptyOn404: [], baseUrl: serviceBaseUrl(ctx.options) });
  },
});
