import type { ServiceDefinition } from '@collector/sdk';
import { darktraceErrors } from '../errors.js';

/**
 * A name we shipped before, kept working as `current`: the same service (its own state, under the old
 * name), a one-line deprecation warning at start, and an error when both names are configured (each would
 * deliver every event).
 */
export function deprecatedAlias<S extends ServiceDefinition<any, any, any>>(service: S, current: string): S {
  return {
    ...service,
    async init(ctx) {
      if (ctx.input.services && current in ctx.input.services) throw darktraceErrors.aliasWithCurrent({ path: ctx.path, alias: ctx.serviceName, current });
      ctx.log.warning(`Service <${ctx.serviceName}> is deprecated: it is the old name of <${current}>, which it runs; rename it in the configuration`);
      await service.init?.(ctx);
    },
  };
}
