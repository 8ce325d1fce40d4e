import { startProofpointSimulator } from '@collector/simulators';
import { benchGlobals, isoSeconds } from '../lib/workdir.js';
import type { ConfigOptions, VendorScenario, VendorSpecifics } from './types.js';

const PRINCIPAL = 'bench-principal-9c2e';
const SECRET = 'Pp-Bench-Secret-4a7d1f0b';
const HOUR_MS = 3_600_000;
const SPAN_MS = 48 * HOUR_MS;
const SERVICE = 'messagesDelivered';

/**
 * Proofpoint TAP messagesDelivered: one record per message over the last 48 h, one-hour intervals (no paging),
 * the record `id` (one per recipient) is the identity. Basic auth: no token to expire; no drop fault.
 */
export const proofpointTapAdapter: VendorSpecifics = {
  checkpointBatch: (events) => ({ events: Math.ceil(events / 48) + 1, unit: 'one-hour interval' }),
  async start({ events, seed }): Promise<VendorScenario> {
    const to = Math.floor((Date.now() - HOUR_MS) / HOUR_MS) * HOUR_MS;
    const from = to - SPAN_MS;
    // The daily quota of the real API is not what is measured here.
    // Generated at start (the records are stored as text as they come; `sim.generate` would also return them all).
    const sim = await startProofpointSimulator({ principal: PRINCIPAL, secret: SECRET, quota: 1_000_000, seed: seed ?? 7, generate: [{ service: SERVICE, count: events, from, to }] });
    return {
      truth: () => new Set(sim.eventIds(SERVICE)),
      config: (o: ConfigOptions) => ({
        globals: benchGlobals(),
        outputs: o.outputs,
        inputs: {
          proofpoint_tap: {
            id: 'bench',
            credentials: { username: PRINCIPAL, password: SECRET },
            requests_limits: [{ period: '1d', number_of_requests: -1 }],
            ...o.input,
            services: {
              [SERVICE]: {
                override_base_url: o.baseUrl ?? sim.url,
                start_time_in_utc_format: isoSeconds(from),
                ...(o.periodSeconds ? { request_period_in_seconds: o.periodSeconds } : {}),
              },
            },
          },
        },
      }),
      identity: (event) => (typeof event['id'] === 'string' && event['id'] !== '' ? event['id'] : undefined),
      secrets: () => [SECRET],
      faults: sim.faults,
      barePlan: async () => ({
        requests: sim.requests
          .filter((r) => r.status === 200 && r.count > 0 && r.interval)
          .map((r) => ({
            url: `${sim.url}${r.path}?${new URLSearchParams({ format: 'json', interval: `${isoSeconds(r.interval!.start)}/${isoSeconds(r.interval!.end)}` }).toString()}`,
            headers: { authorization: `Basic ${Buffer.from(`${PRINCIPAL}:${SECRET}`).toString('base64')}` },
          })),
        eventPaths: [SERVICE],
      }),
      close: () => sim.close(),
    };
  },
};
