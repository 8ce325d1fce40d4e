import { startDarktraceSimulator } from '@collector/simulators';
import { benchGlobals, isoSeconds } from '../lib/workdir.js';
import type { ConfigOptions, VendorScenario, VendorSpecifics } from './types.js';

const PUBLIC_TOKEN = 'dt-bench-public-7f3a9c1e5b';
const PRIVATE_TOKEN = 'dt-bench-private-2d8e6b4a0c';
const HOUR_MS = 3_600_000;
const SPAN_MS = 48 * HOUR_MS;

/**
 * Darktrace modelbreaches: breaches one every SPAN/N over the last 48 h (one-hour slots, no paging), pbid is
 * the identity. Darktrace has no rate limit and no tokens that expire (HMAC per request): no throttle or expiry fault.
 */
export const darktraceAdapter: VendorSpecifics = {
  // A checkpoint after each one-hour slot (one answer, no paging): N / 48 breaches.
  checkpointBatch: (events) => ({ events: Math.ceil(events / 48) + 1, unit: 'one-hour slot' }),
  async start({ events, seed }): Promise<VendorScenario> {
    const to = Math.floor((Date.now() - HOUR_MS) / HOUR_MS) * HOUR_MS;
    const from = to - SPAN_MS;
    const everyMs = Math.max(1, Math.floor(SPAN_MS / events));
    const sim = await startDarktraceSimulator({ publicToken: PUBLIC_TOKEN, privateToken: PRIVATE_TOKEN, seed: seed ?? 42, breaches: { from, to, everyMs } });
    return {
      truth: () => new Set(sim.breachesBetween(from, Date.now()).map((b) => String(b.pbid))),
      config: (o: ConfigOptions) => ({
        globals: benchGlobals(),
        outputs: o.outputs,
        inputs: {
          darktrace: {
            id: 'bench',
            credentials: { public_token: PUBLIC_TOKEN, private_token: PRIVATE_TOKEN, instance: o.baseUrl ?? sim.url },
            ...o.input,
            services: {
              modelbreaches: {
                start_time_in_utc_format: isoSeconds(from),
                // Short client timeout so a hanging answer (the timeout fault) costs seconds, not minutes.
                request_timeout_in_seconds: 10,
                ...(o.periodSeconds ? { request_period_in_seconds: o.periodSeconds } : {}),
              },
            },
          },
        },
      }),
      identity: (event) => (event['pbid'] !== undefined ? String(event['pbid']) : undefined),
      secrets: () => [PUBLIC_TOKEN, PRIVATE_TOKEN],
      faults: sim.faults,
      faultEndpoint: '/modelbreaches',
      barePlan: async () => ({
        requests: sim.requests.filter((r) => r.path === '/modelbreaches' && r.status === 200).map((r) => ({ url: `${sim.url.replace(/\/$/, '')}${r.target}` })),
        eventPaths: [''],
        darktrace: { publicToken: PUBLIC_TOKEN, privateToken: PRIVATE_TOKEN },
      }),
      close: () => sim.close(),
    };
  },
};
