import { createRequire } from 'node:module';
import { defineCollector, defineInput } from '@collector/sdk';
import { DarktraceClient } from './client.js';
import { checkCredentials, credentialsSchema } from './config.js';
import { remedies } from './errors.js';
import { aiAnalystService } from './services/ai-analyst.js';
import { modelBreachesService } from './services/model-breaches.js';
import { summaryStatisticsService } from './services/summary-statistics.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `darktrace` input: HMAC-signed Threat Visualizer API, three services. */
export const darktraceInput = defineInput<DarktraceClient>({
  name: 'darktrace',
  credentials: credentialsSchema,
  // The instance is an address, not a secret: keep it readable in logs.
  obfuscate: ['public_token', 'private_token'],
  setupModuleName: 'CollectorDarktracePullerSetup',
  remedies,
  async setup(ctx) {
    ctx.log.info('Starting the execution of setup()');
    const { baseUrl, publicToken, privateToken } = checkCredentials(ctx.credentials);
    const client = new DarktraceClient(baseUrl, publicToken, privateToken);
    await client.validateTokens(ctx.http, ctx.log);
    ctx.log.info('Finalizing the execution of setup()');
    return client;
  },
  services: {
    modelbreaches: modelBreachesService,
    aianalyst: aiAnalystService,
    summarystatistics: summaryStatisticsService,
  },
});

export const darktraceCollector = defineCollector({
  name: 'darktrace_collector',
  version,
  inputs: [darktraceInput],
});

export { DarktraceClient, signDarktraceRequest, formatDtapiDate, buildQuery, instanceBaseUrl, type QueryValue } from './client.js';
export { checkCredentials, type DarktraceCredentials, type TimeSlotOptions } from './config.js';
export { remedies } from './errors.js';
export { modelBreachesService, MODEL_BREACH_FLAGS, type ModelBreach } from './services/model-breaches.js';
export { aiAnalystService, AI_ANALYST_FLAGS, type IncidentEvent } from './services/ai-analyst.js';
export { summaryStatisticsService } from './services/summary-statistics.js';
export { pullTimeSlots, slotStart, pythonUtc, type SlotCheckpoint } from './services/time-slots.js';
