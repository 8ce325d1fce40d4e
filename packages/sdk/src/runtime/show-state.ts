import { redact } from '../secrets/redactor.js';
import { stateKey } from '../persistence/state-store.js';
import type { CollectorRuntime } from './collector-runtime.js';

/** `--show-state`: each service's checkpoint, dedup window size and request budgets, secrets removed. */
export async function showState(runtime: CollectorRuntime): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const input of runtime.inputs) {
    for (const runner of input.runners) {
      const state = await runtime.store.load(runner.stateKey).catch((e: Error) => ({ error: e.message }));
      if (!state) {
        out[runner.stateKey] = null;
        continue;
      }
      const { dedup, ...rest } = state as Record<string, unknown>;
      out[runner.stateKey] = { ...rest, dedup_window_size: Array.isArray(dedup) ? dedup.length : 0 };
    }
    const key = stateKey(input.definition.name, input.config.id, '__input__');
    const shared = await runtime.store.load(key).catch(() => undefined);
    if (shared) {
      const budgets: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(shared)) {
        if (k.startsWith('requests:') && Array.isArray(v)) {
          const day = Date.now() - 86_400_000;
          budgets[k] = { requests_in_last_24h: v.filter((t) => typeof t === 'number' && t > day).length };
        } else budgets[k] = v;
      }
      out[key] = budgets;
    }
  }
  return `${redact(JSON.stringify(out, null, 2))}\n`;
}
