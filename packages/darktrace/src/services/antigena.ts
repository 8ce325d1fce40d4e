import { defineService } from '@collector/sdk';
import type { DarktraceClient } from '../client.js';
import { checkOptions, configuredStartKey, flagParams, optionProperties, serviceBaseUrl, startTimeResetMessage, type OptionSpec, type TimeSlotOptions } from '../config.js';
import { darktraceErrors } from '../errors.js';
import { pullTimeSlots, slotCheckpointTime, type SlotCheckpoint } from './time-slots.js';
import { versionKey } from './fingerprint.js';

/** A RESPOND/Network (Antigena) action as /antigena returns it; `codeid` identifies it. */
export interface AntigenaAction {
  codeid: number;
  /** Epoch ms the action ends (extending an action moves it). */
  expires?: number;
  [key: string]: unknown;
}

const PATH = '/antigena';

/**
 * /antigena without a time window answers every current action (expiry in the future) and every action
 * that expired in the last 14 days, pending ones included; `includecleared=true` adds cleared ones. That
 * snapshot is read once a cycle and is where state changes show (confirmed: `active`; cleared: `cleared`;
 * extended: `expires`). The time slots (starttime/endtime) read history from the configured start; the
 * snapshot re-reads all that can still change, so the slots need no look-back.
 */
const spec = {
  lookbackMinutes: 0,
  flags: { includecleared: true, includehistory: false, needconfirming: false },
} satisfies OptionSpec;

/** `needconfirming` filters (true: only actions awaiting confirmation): sent only when the operator asks for it. */
function query(options: Record<string, unknown>): [string, string][] {
  return flagParams(options, spec.flags).filter(([flag, value]) => flag !== 'needconfirming' || value === 'true');
}

/** The list of actions: a bare array, or `{"actions": [...], "devices": [...]}` (the `fulldevicedetails` form). */
function actionsOf(body: unknown): AntigenaAction[] {
  if (Array.isArray(body)) return body as AntigenaAction[];
  const actions = body && typeof body === 'object' ? (body as Record<string, unknown>)['actions'] : undefined;
  if (Array.isArray(actions)) return actions as AntigenaAction[];
  throw darktraceErrors.pullOther({ error: `GET ${PATH} returned ${JSON.stringify(body)?.slice(0, 200)} instead of a list of actions` });
}

/** An action whose end has passed has expired: the record may look the same, the state changed. */
const expiredSuffix = (action: AntigenaAction) => (typeof action.expires === 'number' && action.expires <= Date.now() ? ':expired' : '');

export const antigenaService = defineService<DarktraceClient, TimeSlotOptions, SlotCheckpoint>({
  tag: 'edr.darktrace.respond.antigena',
  moduleName: 'CollectorDarktracePuller',
  options: { type: 'object', properties: optionProperties(spec) },
  init: (ctx) => checkOptions(ctx, spec),
  resetKey: configuredStartKey,
  resetMessage: startTimeResetMessage,
  dedupKey: (action: AntigenaAction) => (action && action.codeid !== undefined ? versionKey(action.codeid, action, expiredSuffix(action)) : undefined),
  dedupWindow: 100_000,
  checkpointTime: slotCheckpointTime,
  async *pull(ctx, checkpoint) {
    const get = async (params: [string, string | number][], attempt: { retries?: number } = {}) =>
      actionsOf(
        await ctx.client.getJson<unknown>(ctx.http, PATH, [...params, ...query(ctx.options)], {
          phase: 'pull',
          emptyOn404: [],
          baseUrl: serviceBaseUrl(ctx.options),
          timeoutMs: ctx.options.request_timeout_in_seconds * 1000,
          ...attempt,
        }),
      );
    yield* pullTimeSlots<AntigenaAction>(
      ctx,
      checkpoint,
      (start, end, attempt) => get([['starttime', start.getTime()], ['endtime', end.getTime()]], attempt),
      async () => {
        const current = await get([]);
        ctx.log.info(`Number of current and recent actions received: ${current.length}`);
        return current;
      },
    );
  },
  async probe(ctx) {
    const now = Date.now();
    await ctx.client.getJson(ctx.http, PATH, [['starttime', now - 60_000], ['endtime', now]], { phase: 'setup', emptyOn404: [], baseUrl: serviceBaseUrl(ctx.options) });
  },
});
