import { redact } from '../secrets/redactor.js';
import { stateKey, type JsonValue } from '../persistence/state-store.js';
import { checkpointTimeOf, formatDuration } from '../telemetry/lag.js';
import type { CollectorRuntime } from './collector-runtime.js';
import { savedDedupKeys } from './dedup-window.js';

/** Keys of `extra`/input state whose values are never printed, whatever a service stored there. */
const SECRET_KEY = /secret|password|passwd|credential|authori[sz]ation|access_?token|refresh_?token|api_?key|private_?key|signature|cookie/i;

function scrub(value: JsonValue | undefined): JsonValue | undefined {
  if (Array.isArray(value)) return value.map((v) => scrub(v) ?? null);
  if (value && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '****' : (scrub(v) ?? null);
    return out;
  }
  return value;
}

/**
 * Where the next pull of a service starts: its saved position; else `--start-at` (given now, or saved by
 * an earlier run that reached no checkpoint yet) minus the service's look-back; else its configured start.
 */
function whereItStarts(checkpoint: JsonValue | undefined, savedStartAt: string | undefined, startAt: Date | undefined): Record<string, string> {
  if (checkpoint !== undefined && checkpoint !== null) {
    return { starts: `from the saved position (checkpoint_time minus the service's look-back)${startAt ? '; --start-at is ignored' : ''}` };
  }
  const at = startAt ?? (savedStartAt ? new Date(savedStartAt) : undefined);
  if (!at) return { starts: 'from the configured start (no saved position)' };
  return { starts: `at --start-at minus the service's look-back (no saved position)`, start_at: `${at.toISOString().slice(0, 19)}Z` };
}

/**
 * `--show-state`: for each configured service its persisted checkpoint (and the time it stands for, and how
 * far behind that is), the dedup window size and the state's bookkeeping; for each input the request budget
 * of every pool. Read only; secrets are masked (registered secrets anywhere, secret-looking keys in `extra`).
 */
export async function showState(runtime: CollectorRuntime, now = Date.now()): Promise<string> {
  const services: Record<string, unknown>[] = [];
  const inputs: Record<string, unknown>[] = [];
  for (const input of runtime.inputs) {
    for (const runner of input.runners) {
      const service = runner.totals.service;
      const definition = input.definition.services[service];
      const entry: Record<string, unknown> = { input: input.definition.name, input_id: input.config.id, service, key: runner.stateKey };
      services.push(entry);
      if (definition?.stateless) {
        entry['state'] = 'stateless (no checkpoint)';
        entry['starts'] = 'each pull reads what the source holds now (--start-at does not apply)';
        continue;
      }
      let state: Record<string, JsonValue> | undefined;
      try {
        state = (await runtime.store.load(runner.stateKey)) as Record<string, JsonValue> | undefined;
      } catch (error) {
        entry['state'] = 'unreadable';
        entry['error'] = (error as Error).message;
        continue;
      }
      const { dedup, checkpoint, extra, reset, version, updated_at, start_at, ...rest } = state ?? {};
      entry['state'] = state ? 'found' : 'none';
      Object.assign(entry, whereItStarts(checkpoint, typeof start_at === 'string' ? start_at : undefined, runtime.startAt));
      if (!state) continue;
      const time = checkpointTimeOf(checkpoint, definition?.checkpointTime?.bind(definition));
      entry['checkpoint'] = checkpoint ?? null;
      if (time) {
        entry['checkpoint_time'] = `${time.toISOString().slice(0, 19)}Z`;
        entry['behind_by'] = formatDuration(now - time.getTime());
      }
      entry['dedup_window_size'] = dedup === undefined ? 0 : savedDedupKeys(dedup).length;
      if (definition?.dedupKey) entry['dedup_window_capacity'] = definition.dedupWindow ?? 20_000;
      entry['reset_key'] = reset ?? null;
      entry['state_version'] = version ?? null;
      entry['updated_at'] = updated_at ?? null;
      if (extra && typeof extra === 'object' && Object.keys(extra).length > 0) entry['extra'] = scrub(extra);
      for (const [k, v] of Object.entries(rest)) entry[k] = scrub(v);
    }

    const key = stateKey(input.definition.name, input.config.id, '__input__');
    const shared = ((await runtime.store.load(key).catch(() => undefined)) ?? {}) as Record<string, JsonValue>;
    const budgets: Record<string, unknown> = {};
    for (const [pool, limiter] of Object.entries(input.limiters)) {
      const persisted = shared[`requests:${pool}`];
      const timestamps = Array.isArray(persisted) ? persisted.filter((t): t is number => typeof t === 'number') : [];
      budgets[pool] = limiter.limits.map(({ periodMs, limit }) => {
        const used = timestamps.filter((t) => t > now - periodMs).length;
        // Only windows of 1 h and more are persisted; shorter ones restart with the process.
        return { period: formatDuration(periodMs), limit, used: periodMs >= 3_600_000 ? used : null, remaining: periodMs >= 3_600_000 ? Math.max(0, limit - used) : null };
      });
    }
    const other: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(shared)) if (!k.startsWith('requests:')) other[k] = scrub(v) ?? null;
    inputs.push({ input: input.definition.name, input_id: input.config.id, request_budgets: budgets, ...(Object.keys(other).length ? { input_state: other } : {}) });
  }
  const highAvailability = await runtime.highAvailabilityStatus().catch((error: unknown) => ({ lease: 'unreadable', error: (error as Error).message }));
  const report = {
    collector: runtime.definition.name,
    version: runtime.definition.version,
    store: runtime.store.kind,
    ...(highAvailability ? { high_availability: highAvailability } : {}),
    services,
    inputs,
  };
  return `${redact(JSON.stringify(report, null, 2))}\n`;
}
