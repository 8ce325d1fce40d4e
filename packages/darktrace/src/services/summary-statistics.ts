import { defineService } from '@collector/sdk';
import type { DarktraceClient } from '../client.js';
import { checkCommonOptions, serviceBaseUrl } from '../config.js';
import { pullOtherError } from '../errors.js';

/**
 * /summarystatistics is a snapshot of the instance (no time window, nothing to resume), so the manual runs it
 * as a stateless service: one request and one event per `request_period_in_seconds`.
 */
export const summaryStatisticsService = defineService<DarktraceClient, Record<string, unknown>, null>({
  tag: 'sig.darktrace.respond.summarystatistics',
  moduleName: 'StatelessServicePuller',
  stateless: true,
  options: { type: 'object', properties: { override_base_url: {} } },
  init: (ctx) => checkCommonOptions(ctx),
  async *pull(ctx) {
    const body = await ctx.client.getJson<unknown>(ctx.http, '/summarystatistics', [], { phase: 'pull', baseUrl: serviceBaseUrl(ctx.options) });
    if (Array.isArray(body)) {
      yield { events: body };
    } else if (body !== null && typeof body === 'object') {
      yield { events: [body] };
    } else {
      throw pullOtherError(`GET /summarystatistics returned ${JSON.stringify(body)?.slice(0, 200)} instead of a JSON object`);
    }
    ctx.log.info('The data is up to date!');
  },
  async probe(ctx) {
    await ctx.client.getJson(ctx.http, '/summarystatistics', [], { phase: 'setup', baseUrl: serviceBaseUrl(ctx.options) });
  },
});
