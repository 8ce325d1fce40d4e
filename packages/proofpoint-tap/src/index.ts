import { createRequire } from 'node:module';
import { defineCollector, defineInput } from '@collector/sdk';
import { createProofpointClient, type ProofpointClient } from './client.js';
import { credentialsSchema, PROOFPOINT_DAILY_BUDGET } from './config.js';
import { proofpointRemedies } from './errors.js';
import { clicksBlockedService } from './services/clicks-blocked.js';
import { clicksPermittedService } from './services/clicks-permitted.js';
import { messagesBlockedService } from './services/messages-blocked.js';
import { messagesDeliveredService } from './services/messages-delivered.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * The Proofpoint TAP collector: input `proofpoint_tap`, services messagesBlocked, messagesDelivered,
 * clicksBlocked (one shared pool of 1800 requests per rolling 24 h) and clicksPermitted (its own 1800).
 * `requests_limits` on the input overrides the shared pool, `requests_pools.clicksPermitted` the other.
 */
export const proofpointTapCollector = defineCollector({
  name: 'proofpoint_tap_collector',
  version,
  inputs: [
    defineInput<ProofpointClient>({
      name: 'proofpoint_tap',
      credentials: credentialsSchema,
      obfuscate: ['password'],
      requestsLimits: PROOFPOINT_DAILY_BUDGET,
      requestPools: { clicksPermitted: PROOFPOINT_DAILY_BUDGET },
      setupModuleName: 'ProofPointPullerSetup',
      setup: createProofpointClient,
      remedies: proofpointRemedies,
      services: {
        messagesBlocked: messagesBlockedService,
        messagesDelivered: messagesDeliveredService,
        clicksBlocked: clicksBlockedService,
        clicksPermitted: clicksPermittedService,
      },
    }),
  ],
});

export { createProofpointClient, fetchSiemWindow, type ProofpointClient, type SiemQuery, type SiemWindow } from './client.js';
export { PROOFPOINT_DEFAULTS, PROOFPOINT_LIMITS, PROOFPOINT_DAILY_BUDGET, type ProofpointServiceOptions } from './config.js';
export { proofpointErrors, proofpointRemedies, START_TIME_CLAMPED_WARNING } from './errors.js';
export { siemDedupKey, windowTime, type SiemCheckpoint } from './services/siem-service.js';
export { steadyNeed, requestsPerPull, reserveFor, estimateDone } from './budget.js';
