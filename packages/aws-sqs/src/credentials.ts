import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { registerSecret } from '@collector/sdk';

/** What the AWS SDK clients take as credentials. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type CredentialProvider = () => Promise<AwsCredentials>;

export interface StsSettings {
  region: string;
  endpoint: string | undefined;
  /** Sockets and the outbound proxy (client.ts). */
  requestHandler?: { httpAgent: unknown; httpsAgent: unknown };
}

/** Credentials are refreshed this long before they expire (or at 80 % of a short lifetime). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** Hands the values to the SDK redactor so that no log line or error can print them. */
function keepSecret(credentials: AwsCredentials): AwsCredentials {
  registerSecret(credentials.secretAccessKey);
  if (credentials.sessionToken) registerSecret(credentials.sessionToken);
  return credentials;
}

export function staticProvider(accessKeyId: string, secretAccessKey: string, sessionToken?: string): CredentialProvider {
  const credentials = keepSecret({ accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) });
  return async () => credentials;
}

/** The AWS SDK's default chain: environment, shared config/profile, web identity, container and instance roles. */
export function defaultChainProvider(requestHandler?: StsSettings['requestHandler']): CredentialProvider {
  // The chain's own STS calls (web identity, SSO) go through the outbound proxy too; IMDS never does.
  const chain = fromNodeProviderChain(requestHandler ? { clientConfig: { requestHandler: requestHandler as never } } : {});
  return async () => keepSecret(await chain());
}

/** An error AssumeRole raised, with the role it was about (for SetupError 101). */
export class AssumeRoleFailure extends Error {
  constructor(
    readonly roleArn: string,
    override readonly cause: unknown,
  ) {
    super(`AssumeRole ${roleArn} failed`);
  }
}

/**
 * Credentials of an assumed role, cached and refreshed before they expire. One refresh at a time: every
 * caller waiting on an expired value shares the same AssumeRole request.
 */
export class AssumedRoleProvider {
  private cached: AwsCredentials | undefined;
  private inflight: Promise<AwsCredentials> | undefined;
  private readonly sts: STSClient;
  /** How many AssumeRole calls were made (tests and `--check`). */
  assumeCount = 0;

  constructor(
    private readonly source: CredentialProvider,
    readonly roleArn: string,
    private readonly options: { externalId?: string; sessionName: string; durationSeconds: number; sts: StsSettings; now?: () => number },
  ) {
    this.sts = new STSClient({
      region: options.sts.region,
      ...(options.sts.endpoint ? { endpoint: options.sts.endpoint } : {}),
      credentials: () => this.source(),
      maxAttempts: 4,
      ...(options.sts.requestHandler ? { requestHandler: options.sts.requestHandler as never } : {}),
    });
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private fresh(credentials: AwsCredentials): boolean {
    if (!credentials.expiration) return true;
    const left = credentials.expiration.getTime() - this.now();
    const margin = Math.min(REFRESH_MARGIN_MS, this.options.durationSeconds * 200); // 20 % of the lifetime
    return left > margin;
  }

  readonly provide: CredentialProvider = async () => {
    if (this.cached && this.fresh(this.cached)) return this.cached;
    this.inflight ??= this.assume().finally(() => (this.inflight = undefined));
    return this.inflight;
  };

  private async assume(): Promise<AwsCredentials> {
    this.assumeCount++;
    let result;
    try {
      result = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: this.roleArn,
          RoleSessionName: this.options.sessionName,
          DurationSeconds: this.options.durationSeconds,
          ...(this.options.externalId ? { ExternalId: this.options.externalId } : {}),
        }),
      );
    } catch (error) {
      throw new AssumeRoleFailure(this.roleArn, error);
    }
    const c = result.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new AssumeRoleFailure(this.roleArn, new Error('AssumeRole returned no credentials'));
    this.cached = keepSecret({
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: new Date(c.Expiration) } : {}),
    });
    return this.cached;
  }

  destroy(): void {
    this.sts.destroy();
  }
}

export interface CredentialSettings {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  baseAccountRole?: string;
  crossAccountRole?: string;
  externalId?: string;
  sessionName?: string;
  durationSeconds?: number;
}

/**
 * The credential chain the manual describes: static keys (or the default chain) → Devo's base account role
 * → the customer's cross-account role with the external id. Either role may be absent.
 */
export function buildCredentialChain(settings: CredentialSettings, sts: StsSettings): { provider: CredentialProvider; roles: AssumedRoleProvider[]; kind: string } {
  let provider: CredentialProvider;
  let kind: string;
  if (settings.accessKeyId && settings.secretAccessKey) {
    provider = staticProvider(settings.accessKeyId, settings.secretAccessKey, settings.sessionToken);
    kind = 'access keys';
  } else {
    provider = defaultChainProvider(sts.requestHandler);
    kind = 'the default credential provider chain';
  }
  const roles: AssumedRoleProvider[] = [];
  const chain = [settings.baseAccountRole, settings.crossAccountRole].filter((r): r is string => Boolean(r));
  chain.forEach((roleArn, index) => {
    const last = index === chain.length - 1;
    const role = new AssumedRoleProvider(provider, roleArn, {
      // The external id guards the customer's role, the last one in the chain.
      ...(last && settings.externalId ? { externalId: settings.externalId } : {}),
      sessionName: settings.sessionName ?? 'devo-sqs-collector',
      // Role chaining caps a session at one hour.
      durationSeconds: index > 0 ? Math.min(settings.durationSeconds ?? 3600, 3600) : (settings.durationSeconds ?? 3600),
      sts,
    });
    roles.push(role);
    provider = role.provide;
    kind += ` → ${roleArn}`;
  });
  return { provider, roles, kind };
}
