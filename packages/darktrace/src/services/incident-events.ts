import { defineService } from '@collector/sdk';
import type { DarktraceClient } from '../client.js';
import { checkTimeSlotOptions, configuredStartKey, serviceBaseUrl, startTimeResetMessage, timeSlotOptionProperties, type TimeSlotOptions } from '../config.js';
import { pullTimeSlots, slotCheckpointTime, type SlotCheckpoint } from './time-slots.js';
import { asArray } from './as-array.js';

/** An AI Analyst incident event as /aianalyst/incidentevents returns it. */
export interface IncidentEvent {
  id: string;
  createdAt?: number;
  [key: string]: unknown;
}

export const AI_ANALYST_FLAGS = ['includeacknowledged', 'includeincidenteventurl'] as const;

export const aiAnalystService = defineService<DarktraceClient, TimeSlotOptions, SlotCheckpoint>({
  tag: 'sig.darktrace.respond.aianalyst',
  moduleName: 'CollectorDarktracePuller',
  options: {
    type: 'object',
    properties: {
      ...timeSlotOptionProperties,
      ...Object.fromEntries(AI_ANALYST_FLAGS.map((flag) => [flag, { default: true }])),
    },
  },
  init: (ctx) => checkTimeSlotOptions(ctx, AI_ANALYST_FLAGS),
  resetKey: configuredStartKey,
  resetMessage: startTimeResetMessage,
  dedupKey: (incident: IncidentEvent) => (incident && typeof incident.id === 'string' ? incident.id : undefined),
  dedupWindow: 50_000,
  checkpointTime: slotCheckpointTime,
  async *pull(ctx, checkpoint) {
    yield* pullTimeSlots<IncidentEvent>(ctx, checkpoint, async (start, end, attempt) => {
      const params: [string, string | number][] = [
        ['starttime', start.getTime()],
        ['endtime', end.getTime()],
        ...AI_ANALYST_FLAGS.map((flag) => [flag, String(ctx.options[flag])] as [string, string]),
      ];
      const incidents = await ctx.client.getJson<unknown>(ctx.http, '/aianalyst/incidentevents', params, {
        phase: 'pull',
        emptyOn404: [],
        baseUrl: serviceBaseUrl(ctx.options),
        timeoutMs: ctx.options.request_timeout_in_seconds * 1000,
        ...attempt,
      });
      return asArray<IncidentEvent>(incidents, '/aianalyst/incidentevents');
    });
  },
  async probe(ctx) {
    const now = Date.now();
    await ctx.client.getJson(ctx.http, '/aianalyst/incidentevents', [['starttime', now - 60_000], ['endtime', now]], { phase: 'setup', emptyOn404: [], baseUrl: serviceBaseUrl(ctx.options) });
  },
});
