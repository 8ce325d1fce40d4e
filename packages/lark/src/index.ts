import { createRequire } from 'node:module';
import { defineCollector, defineInput } from '@collector/sdk';
import { LarkClient } from './client.js';
import { credentialsSchema, larkBaseUrl, type AuditInfosOptions } from './config.js';
import { larkErrors } from './errors.js';
import { auditInfosService } from './services/audit-infos.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Lark's documented limit for audit_infos; `requests_limits` on the input overrides it. */
export const LARK_REQUESTS_LIMITS = [{ period: '1m', number_of_requests: 100 }];

export const larkCollector = defineCollector({
  name: 'lark_collector',
  version,
  inputs: [
    defineInput<LarkClient>({
      name: 'lark',
      credentials: credentialsSchema,
      requestsLimits: LARK_REQUESTS_LIMITS,
      setupModuleName: 'LarkBasePullerSetup',
      errors: larkErrors,
      async setup(ctx) {
        const service = ctx.input.services?.['audit_infos'] as AuditInfosOptions | null | undefined;
        const client = new LarkClient({
          baseUrl: larkBaseUrl(service ?? undefined),
          appId: String(ctx.credentials['app_id']),
          appSecret: String(ctx.credentials['app_secret']),
          http: ctx.http,
          log: ctx.log,
        });
        await client.ensureToken();
        await client.probe(ctx.http);
        return client;
      },
      services: { audit_infos: auditInfosService },
    }),
  ],
});

export { LarkClient, LarkRequestError, usableTokenSeconds, isThrottled, rateLimitResetMs, TOKEN_INVALID_CODES, RATE_LIMIT_CODE, AUDIT_INFOS_PAGE_SIZE } from './client.js';
export type { LarkAuditInfo, AuditInfosQuery, AuditInfosPage, LarkClientOptions } from './client.js';
export { AUDIT_INFOS_DEFAULTS, credentialsSchema, auditInfosOptionsSchema, larkBaseUrl, type AuditInfosOptions } from './config.js';
export { larkErrors, DATETIME_FORMAT } from './errors.js';
export { auditInfosService, auditInfosWindowPolicy, configuredStartValue, AUDIT_INFOS_WINDOW_MS, AUDIT_INFOS_DEDUP_WINDOW, type AuditInfosCheckpoint } from './services/audit-infos.js';
