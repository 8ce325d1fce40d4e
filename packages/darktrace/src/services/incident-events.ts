import { defineService } from '@collector/sdk';
import type { DarktraceClient } from '../client.js';
import { checkOptions, configuredStartKey, flagParams, optionProperties, serviceBaseUrl, startTimeResetMessage, type OptionSpec, type TimeSlotOptions } from '../config.js';
import { pullTimeSlots, slotCheckpointTime, type SlotCheckpoint } from './time-slots.js';
import { asArray } from './as-array.js';
import { versionKey } from './fingerprint.js';

/** An AI Analyst incident event as /aianalyst/incidentevents returns it. */
export interface IncidentEvent {
  id: string;
  createdAt?: number;
  [key: string]: unknown;
}

const PATH = '/aianalyst/incidentevents';

/**
 * Darktrace updates an incident event after creating it (acknowledged, pinned, re-scored, regrouped into
 * another `currentGroup`, new periods) while its `createdAt` stays: the window selects on `createdAt`, so
 * only a re-read finds the update. A day, as Splunk's connector re-reads each poll.
 */
const spec = {
  lookbackMinutes: 24 * 60,
  flags: { includeacknowledged: true, includeincidenteventurl: true },
} satisfies OptionSpec;

export const AI_ANALYST_FLAGS = Object.keys(spec.flags);

export const incidentEventsService = defineService<DarktraceClient, TimeSlotOptions, SlotCheckpoint>({
  tag: 'edr.darktrace.respond.incident_event',
  moduleName: 'CollectorDarktracePuller',
  options: { type: 'object', properties: optionProperties(spec) },
  init: (ctx) => checkOptions(ctx, spec),
  resetKey: configuredStartKey,
  resetMessage: startTimeResetMessage,
  // The id and the content: an unchanged re-read is a duplicate, an updated event is delivered again.
  dedupKey: (incident: IncidentEvent) => (incident && typeof incident.id === 'string' ? versionKey(incident.id, incident) : undefined),
  dedupWindow: 100_000,
  checkpointTime: slotCheckpointTime,
  async *pull(ctx, checkpoint) {
    yield* pullTimeSlots<IncidentEvent>(ctx, checkpoint, async (start, end, attempt) => {
      const params: [string, string | number][] = [['starttime', start.getTime()], ['endtime', end.getTime()], ...flagParams(ctx.options, spec.flags)];
      const incidents = await ctx.client.getJson<unknown>(ctx.http, PATH, params, {
        phase: 'pull',
        emptyOn404: [],
        baseUrl: serviceBaseUrl(ctx.options),
        timeoutMs: ctx.options.request_timeout_in_seconds * 1000,
        ...attempt,
      });
      return asArray<IncidentEvent>(incidents, PATH);
    });
  },
  async probe(ctx) {
    const now = Date.now();
    await ctx.client.getJson(ctx.http, PATH, [['starttime', now - 60_000], ['endtime', now]], { phase: 'setup', emptyOn404: [], baseUrl: serviceBaseUrl(ctx.options) });
  },
});
