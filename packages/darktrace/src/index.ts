import { createRequire } from 'node:module';
import { defineCollector, defineInput } from '@collector/sdk';
import { DarktraceClient } from './client.js';
import { checkCredentials, credentialsSchema } from './config.js';
import { darktraceErrors } from './errors.js';
import { deprecatedAlias } from './services/alias.js';
import { antigenaService } from './services/antigena.js';
import { incidentEventsService } from './services/incident-events.js';
import { modelBreachesService } from './services/model-breaches.js';
import { statusService } from './services/status.js';
import { summaryStatisticsService } from './services/summary-statistics.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `darktrace` input: HMAC-signed Threat Visualizer API, Devo's five services under Devo's names. */
export const darktraceInput = defineInput<DarktraceClient>({
  name: 'darktrace',
  credentials: credentialsSchema,
  // The instance is an address, not a secret: keep it readable in logs.
  obfuscate: ['public_token', 'private_token'],
  setupModuleName: 'CollectorDarktracePullerSetup',
  errors: darktraceErrors,
  async setup(ctx) {
    ctx.log.info('Starting the execution of setup()');
    const { baseUrl, publicToken, privateToken } = checkCredentials(ctx.credentials);
    const client = new DarktraceClient(baseUrl, publicToken, privateToken);
    await client.validateTokens(ctx.http, ctx.log);
    ctx.log.info('Finalizing the execution of setup()');
    return client;
  },
  services: {
    antigena: antigenaService,
    aianalyst_incidentevents: incidentEventsService,
    summarystatistics: summaryStatisticsService,
    status: statusService,
    modelbreaches: modelBreachesService,
    // Our name before Devo's current page.
    aianalyst: deprecatedAlias(incidentEventsService, 'aianalyst_incidentevents'),
  },
});

export const darktraceCollector = defineCollector({
  name: 'darktrace_collector',
  version,
  inputs: [darktraceInput],
});

export { DarktraceClient, signDarktraceRequest, formatDtapiDate, buildQuery, instanceBaseUrl, type QueryValue } from './client.js';
export { checkCredentials, type DarktraceCredentials, type TimeSlotOptions } from './config.js';
export { darktraceErrors } from './errors.js';
export { modelBreachesService, MODEL_BREACH_FLAGS, type ModelBreach } from './services/model-breaches.js';
export { incidentEventsService, AI_ANALYST_FLAGS, type IncidentEvent } from './services/incident-events.js';
export { antigenaService, type AntigenaAction } from './services/antigena.js';
export { summaryStatisticsService } from './services/summary-statistics.js';
export { statusService, flattenObject } from './services/status.js';
export { versionKey } from './services/fingerprint.js';
export { pullTimeSlots, slotPolicy, pythonUtc, type SlotCheckpoint } from './services/time-slots.js';
