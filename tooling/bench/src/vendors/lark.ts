import { startLarkSimulator } from '@collector/simulators';
import { benchGlobals, isoSeconds } from '../lib/workdir.js';
import type { ConfigOptions, VendorScenario, VendorSpecifics } from './types.js';

const APP_ID = 'cli_bench0123456789';
const APP_SECRET = 'Lark-Bench-Secret-5b7e1c9d2f4a';
const DAY_MS = 86_400_000;

/** Lark audit_infos: events spread over the last 3 days, unique_id is the identity, 200 a page. */
export const larkAdapter: VendorSpecifics = {
  // A checkpoint at the end of each fully read one-day window (items come newest first inside a window, so
  // no earlier point is safe to resume from): the 3-day scenario has 3–4 windows.
  checkpointBatch: (events) => ({ events: Math.ceil(events / 3) + 1, unit: 'one-day window' }),
  async start({ events, seed }): Promise<VendorScenario> {
    const to = new Date(Date.now() - 3_600_000);
    const from = new Date(to.getTime() - 3 * DAY_MS);
    // No rate limit: the benchmark measures the pipeline, not Lark's 100 requests a minute.
    const sim = await startLarkSimulator({ appId: APP_ID, appSecret: APP_SECRET, generate: { count: events, from, to }, seed: seed ?? 1, rateLimitPerMinute: 0 });
    return {
      truth: () => new Set(sim.eventIds()),
      config: (o: ConfigOptions) => ({
        globals: benchGlobals(),
        outputs: o.outputs,
        inputs: {
          lark: {
            id: 'bench',
            credentials: { app_id: APP_ID, app_secret: APP_SECRET },
            requests_limits: [{ period: '1m', number_of_requests: -1 }],
            ...o.input,
            services: {
              audit_infos: {
                override_base_url: o.baseUrl ?? sim.url,
                initial_start_time_in_utc_value: isoSeconds(from.getTime() - 60_000),
                ...(o.periodSeconds ? { request_period_in_seconds: o.periodSeconds } : {}),
              },
            },
          },
        },
      }),
      identity: (event) => (typeof event['unique_id'] === 'string' ? event['unique_id'] : undefined),
      secrets: () => [APP_SECRET, ...sim.issuedTokens],
      faults: sim.faults,
      barePlan: async () => ({
        requests: sim.auditRequests()
          .filter((r) => r.status === 200 && (r.items ?? 0) > 0)
          .map((r) => ({ url: `${sim.url}${r.path}?${new URLSearchParams(r.query).toString()}`, headers: { authorization: `Bearer ${sim.issuedTokens.at(-1)}` } })),
        eventPaths: ['data.items'],
      }),
      close: () => sim.close(),
    };
  },
};
