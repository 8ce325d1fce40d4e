import { createRequire } from 'node:module';
import { defineCollector, defineInput } from '@collector/sdk';
import { O365Client } from './client.js';
import { credentialsSchema, GRAPH_DETAIL_SERVICE, GRAPH_SERVICE, INPUT_NAME, inputOptionsSchema, parseCredentials, RWS_SERVICE } from './config.js';
import { o365Errors } from './errors.js';
import { graphMessageTraceService } from './services/message-trace-graph.js';
import { rwsMessageTraceService } from './services/message-trace-rws.js';
import { graphMessageTraceDetailService } from './services/message-trace-details.js';

const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/**
 * Graph's tenant throttle: 100 requests per rolling 5 minutes, shared by trace and trace-detail calls.
 * Graph requests spend this (configurable) default pool; the Reporting Web Service has no documented limit
 * and uses its own unlimited `rws` pool. A 429 (other tools of the tenant spend the same budget) waits for
 * its Retry-After.
 */
export const GRAPH_DEFAULT_REQUESTS_LIMITS = [{ period: '5m', number_of_requests: 100 }];

export const office365MessageTraceInput = defineInput<O365Client>({
  name: INPUT_NAME,
  credentials: credentialsSchema,
  options: inputOptionsSchema,
  obfuscate: ['tenant_id', 'client_id', 'client_secret'],
  requestsLimits: GRAPH_DEFAULT_REQUESTS_LIMITS,
  requestPools: { rws: [] },
  setupModuleName: 'Office365ExchangeMessageTracePullerSetup',
  errors: o365Errors,
  async setup(ctx) {
    ctx.log.info('Puller Setup started');
    // Tokens are fetched on first use, one per service (resource): a service whose token fails (a cloud
    // without Graph, a tenant without RWS) must not stop the other one. SetupError 100-102 surface there.
    const client = new O365Client(parseCredentials(ctx.input), ctx.http, ctx.log);
    ctx.log.info('Puller Setup terminated');
    return client;
  },
  services: {
    [RWS_SERVICE]: rwsMessageTraceService,
    [GRAPH_SERVICE]: graphMessageTraceService,
    [GRAPH_DETAIL_SERVICE]: graphMessageTraceDetailService,
  },
});

/** The Microsoft 365 Exchange Online message trace collector (`o365_emt_collector`). */
export const o365EmtCollector = defineCollector({
  name: 'o365_emt_collector',
  version,
  inputs: [office365MessageTraceInput],
});

export { O365Client, tokenUrl, type TokenSpec } from './client.js';
export {
  INPUT_NAME,
  RWS_SERVICE,
  GRAPH_SERVICE,
  GRAPH_DETAIL_SERVICE,
  DEFAULT_AUTH_URL,
  DEFAULT_RWS_URL,
  DEFAULT_RWS_RESOURCE,
  DEFAULT_GRAPH_URL,
  DEFAULT_DELAY_SECONDS,
  rwsServiceRoot,
  graphCollectionUrl,
  parseServiceOptions,
  parseHistoricLimits,
  parseCredentials,
  type ServiceOptions,
  type HistoricLimits,
  type Credentials,
} from './config.js';
export { o365Errors, describeBody } from './errors.js';
export { FIRST_WINDOW_MS, historicFloor, startOfPull, type MessageTraceCheckpoint } from './historic.js';
export { MESSAGE_TRACE_DETAIL_TAG, detailDedupKey, detailUrl } from './services/message-trace-details.js';
export { MESSAGE_TRACE_TAG, RWS_RETIREMENT_WARNING, RWS_WINDOW_MS, rwsDedupKey, rwsReceivedMs, parseRwsPage, rwsQueryUrl } from './services/message-trace-rws.js';
export { graphDedupKey, graphQueryUrl } from './services/message-trace-graph.js';
