import { startO365Simulator } from '@collector/simulators';
import { benchGlobals } from '../lib/workdir.js';
import type { ConfigOptions, VendorScenario, VendorSpecifics } from './types.js';

const TENANT = '0b1e4c2a-6d3f-4e5a-9b8c-7d6e5f4a3b2c';
const CLIENT_ID = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const CLIENT_SECRET = 'O365~Bench.Secret-8f7e6d5c4b3a';
const SERVICE = 'office365_exchange_message_graph_service';

/**
 * Microsoft 365 message trace through Graph `messageTraces` (the RWS service is being retired): rows inside the
 * first window a first run pulls (now − 25 h 15 min to now − 25 h, as the original collector starts), no late
 * rows, `id|recipientAddress` is the identity (one row per recipient). The window is read with nextLink paging.
 */
export const o365EmtAdapter: VendorSpecifics = {
  checkpointBatch: (events) => ({ events, unit: 'one Graph window' }),
  async start({ events, seed }): Promise<VendorScenario> {
    // A first run starts at now − 25 h (the default delay: rows arrive up to a day late) − 15 min and saves
    // that start before pulling, so restarts resume there: the rows lie inside that first window.
    const to = new Date(Date.now() - 25 * 3_600_000 - 60_000);
    const from = new Date(to.getTime() - 13 * 60_000);
    // maxRecipients 1: `events` messages give `events` rows.
    const sim = await startO365Simulator({
      tenantId: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, seed: seed ?? 365,
      generate: { messages: events, from, to, maxRecipients: 1, lateFraction: 0 },
      graphThrottle: { limit: 0, windowMs: 300_000 },
    });
    const identityOf = (id: unknown, recipient: unknown) => `${String(id)}|${String(recipient)}`;
    return {
      truth: () => new Set(sim.rowIdentities()),
      config: (o: ConfigOptions) => ({
        globals: benchGlobals(),
        outputs: o.outputs,
        inputs: {
          office365_exchange_message: {
            id: 'bench',
            credentials: { tenant_id: TENANT, client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
            max_historic_date_cutoff_days_back: 5,
            requests_limits: [{ period: '1s', number_of_requests: -1 }],
            ...o.input,
            services: {
              [SERVICE]: {
                override_base_url: o.baseUrl ?? sim.url,
                override_base_auth_url: o.baseUrl ?? sim.url,
                ...(o.pageSize ? { page_size: o.pageSize } : {}),
                ...(o.periodSeconds ? { request_period_in_seconds: o.periodSeconds } : {}),
              },
            },
          },
        },
      }),
      identity: (event) => (event['id'] !== undefined ? identityOf(event['id'], event['recipientAddress']) : undefined),
      secrets: () => [CLIENT_SECRET],
      faults: sim.faults,
      barePlan: async () => {
        const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: 'https://graph.microsoft.com/.default' });
        const token = (await (await fetch(`${sim.url}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', body: form })).json()) as { access_token: string };
        return {
          requests: sim.requests
            .filter((r) => r.api === 'graph' && r.status === 200 && (r.rows ?? 0) > 0)
            .map((r) => ({ url: `${sim.url}${r.path}?${new URLSearchParams(r.query).toString()}`, headers: { authorization: `Bearer ${token.access_token}` } })),
          eventPaths: ['value'],
        };
      },
      close: () => sim.close(),
    };
  },
};
