import { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { proxyAgents, registerSecret, type Logger, type ProxySettings, type SetupContext } from '@collector/sdk';
import { effectiveCredentials } from './config.js';
import { AssumeRoleFailure, buildCredentialChain, type AssumedRoleProvider, type CredentialProvider, type StsSettings } from './credentials.js';
import { awsSqsErrors as errors } from './errors.js';
import { endpointFor, regionFromQueueUrl } from './options.js';

/** Error names AWS uses for credentials it does not accept. */
const REJECTED = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'InvalidAccessKeyId', 'ExpiredToken', 'ExpiredTokenException', 'IncompleteSignature']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'TimeoutError']);

export function awsErrorName(error: unknown): string {
  const e = error as { name?: string; Code?: string; code?: string };
  return e?.Code ?? e?.name ?? e?.code ?? 'Error';
}

/** A one-line description of an AWS SDK error, safe to log (no request signature, no credentials). */
export function awsErrorText(error: unknown): string {
  const e = error as { message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return `${awsErrorName(error)}${status ? ` (HTTP ${status})` : ''}: ${String(e?.message ?? error).split('\n')[0]}`;
}

/** Maps a credential failure to the documented SetupError. */
export function setupErrorFor(error: unknown): Error {
  if (error instanceof AssumeRoleFailure) {
    const name = awsErrorName(error.cause);
    if (UNREACHABLE.has(name) || UNREACHABLE.has((error.cause as { code?: string })?.code ?? '')) return errors.unreachable({ error: awsErrorText(error.cause) });
    if (REJECTED.has(name)) return errors.rejected({ error: awsErrorText(error.cause) });
    return errors.assumeRoleDenied({ role: error.roleArn, error: awsErrorText(error.cause) });
  }
  const name = awsErrorName(error);
  if (name === 'CredentialsProviderError') return errors.noCredentials({ error: awsErrorText(error) });
  if (REJECTED.has(name)) return errors.rejected({ error: awsErrorText(error) });
  if (UNREACHABLE.has(name) || UNREACHABLE.has((error as { code?: string })?.code ?? '')) return errors.unreachable({ error: awsErrorText(error) });
  return errors.rejected({ error: awsErrorText(error) });
}

/** Socket settings for every client: keep-alive, enough sockets for the objects in flight, the outbound proxy (HTTPS_PROXY, NO_PROXY, globals.proxy). */
function requestHandler(proxy: ProxySettings | undefined) {
  return { connectionTimeout: 10_000, requestTimeout: 120_000, ...proxyAgents(proxy, { keepAlive: true, maxSockets: 128 }) };
}

/**
 * The authenticated AWS session of one input: one credential chain, and SQS / S3 clients per region and
 * endpoint, created on first use and shared by the services.
 */
export class AwsSession {
  private readonly sqsClients = new Map<string, SQSClient>();
  private readonly s3Clients = new Map<string, S3Client>();

  constructor(
    readonly credentials: CredentialProvider,
    readonly roles: AssumedRoleProvider[],
    readonly kind: string,
    private readonly log?: Logger,
    private readonly proxy?: ProxySettings,
  ) {}

  sqs(region: string, endpoint: string | undefined): SQSClient {
    const resolved = endpointFor('SQS', endpoint);
    const key = `${region} ${resolved ?? ''}`;
    let client = this.sqsClients.get(key);
    if (!client) {
      client = new SQSClient({ region, credentials: this.credentials, maxAttempts: 5, requestHandler: requestHandler(this.proxy), ...(resolved ? { endpoint: resolved } : {}) });
      this.sqsClients.set(key, client);
    }
    return client;
  }

  s3(region: string, endpoint: string | undefined): S3Client {
    const resolved = endpointFor('S3', endpoint);
    const key = `${region} ${resolved ?? ''}`;
    let client = this.s3Clients.get(key);
    if (!client) {
      // Custom endpoints (moto, MinIO, LocalStack, VPC endpoints by IP) need path-style addressing.
      client = new S3Client({
        region,
        credentials: this.credentials,
        maxAttempts: 5,
        requestHandler: requestHandler(this.proxy),
        ...(resolved ? { endpoint: resolved, forcePathStyle: true } : {}),
        // A bucket in another region than the queue: follow S3's redirect instead of failing.
        followRegionRedirects: true,
        // Objects are checked by their gzip framing and JSON structure; skip the response checksum pass.
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      this.s3Clients.set(key, client);
    }
    return client;
  }

  /** `--check` and setup: the queue exists and these credentials may read its attributes. */
  async probeQueue(queueUrl: string, region: string, endpoint: string | undefined): Promise<Record<string, string>> {
    const result = await this.sqs(region, endpoint).send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
    return result.Attributes ?? {};
  }

  destroy(): void {
    for (const c of this.sqsClients.values()) c.destroy();
    for (const c of this.s3Clients.values()) c.destroy();
    for (const r of this.roles) r.destroy();
    this.log?.debug('AWS clients closed');
  }
}

/** The first service's region and endpoint: where STS is asked for the role credentials. */
function stsSettingsFor(ctx: SetupContext): StsSettings {
  const services = Object.values(ctx.input.services ?? {}) as Record<string, unknown>[];
  const first = services.find((s) => s && typeof s === 'object') ?? {};
  const queueUrl = (first['base_url'] ?? ctx.input['base_url']) as string | undefined;
  const region =
    (first['region'] as string | undefined) ??
    (ctx.input['region'] as string | undefined) ??
    (queueUrl ? regionFromQueueUrl(queueUrl) : undefined) ??
    process.env['AWS_REGION'] ??
    process.env['AWS_DEFAULT_REGION'] ??
    'us-east-1';
  const endpoint = endpointFor('STS', (first['endpoint_url'] ?? ctx.input['endpoint_url']) as string | undefined);
  return { region, endpoint, requestHandler: requestHandler(ctx.http.proxy) };
}

/**
 * `setup`: builds the credential chain and proves it works once (AssumeRole, or GetCallerIdentity for keys
 * and the default chain), so that bad credentials stop the collector with a SetupError, not a pull error.
 */
export async function createSession(ctx: SetupContext): Promise<AwsSession> {
  const c = effectiveCredentials(ctx.input);
  // Keys written at the input level are not under `credentials:`: keep their values out of every log line too.
  for (const key of ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'aws_external_id']) if (typeof c[key] === 'string') registerSecret(c[key] as string);
  const str = (k: string) => (typeof c[k] === 'string' && c[k] ? (c[k] as string) : undefined);
  const sts = stsSettingsFor(ctx);
  const { provider, roles, kind } = buildCredentialChain(
    {
      accessKeyId: str('aws_access_key_id'),
      secretAccessKey: str('aws_secret_access_key'),
      sessionToken: str('aws_session_token'),
      baseAccountRole: str('aws_base_account_role'),
      crossAccountRole: str('aws_cross_account_role'),
      externalId: str('aws_external_id'),
      sessionName: str('aws_role_session_name'),
      durationSeconds: typeof c['aws_role_duration_seconds'] === 'number' ? (c['aws_role_duration_seconds'] as number) : undefined,
    },
    sts,
  );
  const session = new AwsSession(provider, roles, kind, ctx.log, ctx.http.proxy);
  try {
    if (roles.length > 0) {
      await provider();
    } else {
      const identityClient = new STSClient({ region: sts.region, credentials: provider, maxAttempts: 3, requestHandler: sts.requestHandler, ...(sts.endpoint ? { endpoint: sts.endpoint } : {}) });
      try {
        await identityClient.send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal as never });
      } finally {
        identityClient.destroy();
      }
    }
  } catch (error) {
    const mapped = setupErrorFor(error) as Error & { id?: number };
    if (mapped.id === 103 && roles.length === 0) {
      // STS unreachable (e.g. a VPC without an STS endpoint): SQS and S3 may still work; they will tell.
      ctx.log.warning(`Could not verify the credentials with STS: ${mapped.message}`);
    } else {
      session.destroy();
      throw mapped;
    }
  }
  ctx.log.info(`AWS credentials: ${kind}`);
  return session;
}
