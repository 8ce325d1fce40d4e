import { defineService } from '@collector/sdk';
import type { DarktraceClient } from '../client.js';
import { checkTimeSlotOptions, configuredStartKey, serviceBaseUrl, startTimeResetMessage, timeSlotOptionProperties, type TimeSlotOptions } from '../config.js';
import { pullTimeSlots, slotCheckpointTime, type SlotCheckpoint } from './time-slots.js';
import { asArray } from './as-array.js';

/** A model breach as /modelbreaches returns it (only the keys the collector reads are typed). */
export interface ModelBreach {
  pbid: number;
  time: number;
  creationTime?: number;
  [key: string]: unknown;
}

/** The boolean query switches of /modelbreaches the config exposes, all on by default. */
export const MODEL_BREACH_FLAGS = ['expandenums', 'historicmodelonly', 'includeacknowledged', 'includebreachurl'] as const;

export const modelBreachesService = defineService<DarktraceClient, TimeSlotOptions, SlotCheckpoint>({
  tag: 'sig.darktrace.respond.modelbreaches',
  moduleName: 'CollectorDarktracePuller',
  options: {
    type: 'object',
    properties: {
      ...timeSlotOptionProperties,
      ...Object.fromEntries(MODEL_BREACH_FLAGS.map((flag) => [flag, { default: true }])),
    },
  },
  init: (ctx) => checkTimeSlotOptions(ctx, MODEL_BREACH_FLAGS),
  resetKey: configuredStartKey,
  resetMessage: startTimeResetMessage,
  // pbid increases with every breach: the natural unique key, and what makes the look-back overlap safe.
  dedupKey: (breach: ModelBreach) => (breach && breach.pbid !== undefined ? String(breach.pbid) : undefined),
  dedupWindow: 50_000,
  checkpointTime: slotCheckpointTime,
  async *pull(ctx, checkpoint) {
    yield* pullTimeSlots<ModelBreach>(ctx, checkpoint, async (start, end, attempt) => {
      const params: [string, string | number][] = [
        ['starttime', start.getTime()],
        ['endtime', end.getTime()],
        ...MODEL_BREACH_FLAGS.map((flag) => [flag, String(ctx.options[flag])] as [string, string]),
      ];
      const breaches = await ctx.client.getJson<unknown>(ctx.http, '/modelbreaches', params, {
        phase: 'pull',
        emptyOn404: [],
        baseUrl: serviceBaseUrl(ctx.options),
        timeoutMs: ctx.options.request_timeout_in_seconds * 1000,
        ...attempt,
      });
      return asArray<ModelBreach>(breaches, '/modelbreaches');
    });
  },
  async probe(ctx) {
    const now = Date.now();
    await ctx.client.getJson(ctx.http, '/modelbreaches', [['starttime', now - 60_000], ['endtime', now], ['minimal', 'true']], { phase: 'setup', emptyOn404: [], baseUrl: serviceBaseUrl(ctx.options) });
  },
});
