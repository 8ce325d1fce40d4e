import { defineService, type ServiceDefinition } from '@collector/sdk';
import type { DarktraceClient, QueryValue } from '../client.js';
import { checkOptions, optionProperties, serviceBaseUrl, type OptionSpec } from '../config.js';
import { darktraceErrors } from '../errors.js';

export interface SnapshotSpec extends OptionSpec {
  tag: string;
  path: string;
  /** The query of one snapshot, from the service's options. */
  params(options: Record<string, unknown>): [string, QueryValue][];
  /** Turns the answer's object into the event (e.g. `status` flattening); the object as is by default. */
  toEvent?(body: Record<string, unknown>, options: Record<string, unknown>): Record<string, unknown>;
}

/**
 * A snapshot of the instance (no time window, nothing to resume): one request and one event per
 * `request_period_in_seconds`, nothing persisted (the manual's StatelessServicePuller). Devo's time keys are
 * accepted and validated like on every service, but a snapshot has no time range to apply them to.
 */
export function snapshotService(spec: SnapshotSpec): ServiceDefinition<DarktraceClient, Record<string, unknown>, null> {
  const get = (ctx: { client: DarktraceClient; http: Parameters<DarktraceClient['getJson']>[0]; options: Record<string, unknown> }, phase: 'pull' | 'setup') =>
    ctx.client.getJson<unknown>(ctx.http, spec.path, spec.params(ctx.options), {
      phase,
      baseUrl: serviceBaseUrl(ctx.options),
      timeoutMs: Number(ctx.options['request_timeout_in_seconds']) * 1000,
    });
  return defineService<DarktraceClient, Record<string, unknown>, null>({
    tag: spec.tag,
    moduleName: 'StatelessServicePuller',
    stateless: true,
    options: { type: 'object', properties: optionProperties(spec) },
    init: (ctx) => checkOptions(ctx, spec),
    async *pull(ctx) {
      const body = await get(ctx, 'pull');
      const objects = Array.isArray(body) ? body : [body];
      if (!objects.every((o): o is Record<string, unknown> => o !== null && typeof o === 'object' && !Array.isArray(o))) {
        throw darktraceErrors.pullOther({ error: `GET ${spec.path} returned ${JSON.stringify(body)?.slice(0, 200)} instead of a JSON object` });
      }
      yield { events: objects.map((o) => (spec.toEvent ? spec.toEvent(o, ctx.options) : o)) };
      ctx.log.info('The data is up to date!');
    },
    async probe(ctx) {
      await get(ctx, 'setup');
    },
  });
}
