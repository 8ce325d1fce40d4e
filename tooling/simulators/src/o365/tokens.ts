import { randomBytes } from 'node:crypto';

/**
 * Microsoft identity platform client-credentials tokens, v1 (`/{tenant}/oauth2/token` with `resource`, the
 * endpoint the Devo manual's curl and log lines use) and v2 (`/{tenant}/oauth2/v2.0/token` with
 * `scope=<resource>/.default`). A token is valid for one audience only, like a real JWT's `aud`.
 */
export type O365Audience = 'rws' | 'graph';

interface IssuedToken {
  audience: O365Audience;
  expiresAt: number;
}

export interface O365TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface O365TokenConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The `resource` (v1) / scope prefix (v2) accepted for the Reporting Web Service. */
  rwsResource: string;
  graphResource: string;
  lifetimeSeconds: number;
  clock: () => number;
}

function aadError(status: number, error: string, code: string, text: string): O365TokenAnswer {
  return {
    status,
    body: {
      error,
      error_description: `${code}: ${text}\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: ${new Date().toISOString()}`,
      error_codes: [Number(code.replace('AADSTS', ''))],
      timestamp: new Date().toISOString(),
    },
  };
}

const strip = (url: string) => url.replace(/\/+$/, '');

export class O365TokenIssuer {
  private readonly tokens = new Map<string, IssuedToken>();
  issued = 0;

  constructor(private readonly config: O365TokenConfig) {}

  /** Handles a token request; `version` says which endpoint was hit. */
  issue(version: 'v1' | 'v2', tenant: string, form: URLSearchParams): O365TokenAnswer {
    const c = this.config;
    if (tenant !== c.tenantId) return aadError(400, 'invalid_request', 'AADSTS90002', `Tenant '${tenant.slice(0, 8)}…' not found.`);
    if (form.get('grant_type') !== 'client_credentials') return aadError(400, 'unsupported_grant_type', 'AADSTS70003', 'The app requested an unsupported grant type.');
    if (form.get('client_id') !== c.clientId) return aadError(400, 'unauthorized_client', 'AADSTS700016', 'Application was not found in the directory.');
    if (form.get('client_secret') !== c.clientSecret) return aadError(401, 'invalid_client', 'AADSTS7000215', 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    let audience: O365Audience | undefined;
    let resource: string;
    if (version === 'v1') {
      resource = strip(form.get('resource') ?? '');
      if (!resource) return aadError(400, 'invalid_request', 'AADSTS900144', "The request body must contain the following parameter: 'resource'.");
    } else {
      const scope = form.get('scope') ?? '';
      if (!scope) return aadError(400, 'invalid_request', 'AADSTS900144', "The request body must contain the following parameter: 'scope'.");
      if (!scope.endsWith('/.default')) return aadError(400, 'invalid_scope', 'AADSTS1002012', `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`);
      resource = strip(scope.slice(0, -'/.default'.length));
    }
    if (resource === strip(c.rwsResource)) audience = 'rws';
    else if (resource === strip(c.graphResource)) audience = 'graph';
    if (!audience) return aadError(400, 'invalid_resource', 'AADSTS500011', `The resource principal named ${resource} was not found in the tenant.`);
    const value = `eyJ0eXAiOiJKV1QifQ.${randomBytes(24).toString('base64url')}.${randomBytes(16).toString('base64url')}`;
    const now = c.clock();
    this.tokens.set(value, { audience, expiresAt: now + c.lifetimeSeconds * 1000 });
    this.issued++;
    const life = String(c.lifetimeSeconds);
    if (version === 'v1') {
      return {
        status: 200,
        body: {
          token_type: 'Bearer',
          expires_in: life,
          ext_expires_in: life,
          expires_on: String(Math.floor(now / 1000) + c.lifetimeSeconds),
          not_before: String(Math.floor(now / 1000)),
          resource,
          access_token: value,
        },
      };
    }
    return { status: 200, body: { token_type: 'Bearer', expires_in: c.lifetimeSeconds, ext_expires_in: c.lifetimeSeconds, access_token: value } };
  }

  /** Whether `authorization` carries a live token for `audience`. */
  check(authorization: string | undefined, audience: O365Audience): 'ok' | 'missing' | 'invalid' | 'expired' | 'wrong-audience' {
    const m = /^Bearer (.+)$/.exec(authorization ?? '');
    if (!m) return 'missing';
    const token = this.tokens.get(m[1]!);
    if (!token) return 'invalid';
    if (token.audience !== audience) return 'wrong-audience';
    if (this.config.clock() >= token.expiresAt) return 'expired';
    return 'ok';
  }

  /** Every token issued so far stops working (expiry or revocation). */
  expireAll(): void {
    for (const token of this.tokens.values()) token.expiresAt = 0;
  }
}
