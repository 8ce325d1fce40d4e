import { createRequire } from 'node:module';
import { defineCollector, defineInput } from '@collector/sdk';
import { createProofpointClient, type ProofpointClient } from './client.js';
import { credentialsSchema, PROOFPOINT_DAILY_BUDGET, PROOFPOINT_FORENSICS_BUDGET } from './config.js';
import { proofpointErrors } from './errors.js';
import { clicksBlockedService } from './services/clicks-blocked.js';
import { clicksPermittedService } from './services/clicks-permitted.js';
import { messagesBlockedService } from './services/messages-blocked.js';
import { messagesDeliveredService } from './services/messages-delivered.js';
import { threatsService } from './services/threats.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * The Proofpoint TAP collector: input `proofpoint_tap`, services messagesBlocked, messagesDelivered,
 * clicksBlocked and threats (`/v2/siem/all`; one shared pool of 1800 requests per rolling 24 h),
 * clicksPermitted (its own 1800); the threats' forensics spend pool `forensics` (50 per 24 h), their Threat
 * API summaries no pool (Proofpoint documents no limit). `requests_limits` on the input overrides the shared
 * pool, `requests_pools.<pool>` the others.
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
      requestPools: { clicksPermitted: PROOFPOINT_DAILY_BUDGET, forensics: PROOFPOINT_FORENSICS_BUDGET },
      setupModuleName: 'ProofPointPullerSetup',
      setup: createProofpointClient,
      errors: proofpointErrors,
      services: {
        messagesBlocked: messagesBlockedService,
        messagesDelivered: messagesDeliveredService,
        clicksBlocked: clicksBlockedService,
        clicksPermitted: clicksPermittedService,
        threats: threatsService,
      },
    }),
  ],
});

export { createProofpointClient, fetchSiemWindow, fetchThreatForensics, fetchThreatSummary, type ProofpointClient, type SiemQuery, type SiemWindow } from './client.js';
export { PROOFPOINT_DEFAULTS, PROOFPOINT_LIMITS, PROOFPOINT_DAILY_BUDGET, PROOFPOINT_FORENSICS_BUDGET, type ProofpointServiceOptions } from './config.js';
export { flattenForensics, threatsOfRecord } from './services/threats.js';
export { proofpointErrors, START_TIME_CLAMPED_WARNING } from './errors.js';
export { poolOfService, previousSiemDedupKey, siemDedupKey, windowTime, type SiemCheckpoint } from './services/siem-service.js';
export { steadyNeed, requestsPerPull, reserveFor, estimateDone, servicesInPool } from './budget.js';
