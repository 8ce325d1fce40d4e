import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import type { CollectorDefinition } from '@collector/sdk';
import { definitionOf, VENDORS, type Vendor, type VendorName } from '@collector/testkit';

/** What a scenario hands the demo once its vendor side (simulator or emulator) is running. */
export interface StartedScenario {
  definition: CollectorDefinition;
  /** The `inputs:` block of config.yaml, pointing at the simulator. */
  inputs: Record<string, unknown>;
  /** Ground truth: how many events each tag should receive (undefined when the vendor decides live). */
  expected: Record<string, number>;
  /** Shown next to the collector (e.g. which emulator it runs on). */
  note?: string;
  close(): Promise<void>;
}

/** One collector in the demo: its simulator, the config that points at it, and the expected outcome. */
export interface DemoScenario {
  /** The folder under apps/ and packages/ (the registry's name). */
  vendor: VendorName;
  title: string;
  /**
   * Starts the simulator with `scale` × the default amount of history. Throws a `ScenarioSkipped` when the
   * scenario cannot run here (e.g. no S3/SQS emulator); the demo prints the reason and goes on.
   */
  start(scale: number): Promise<StartedScenario>;
}

export class ScenarioSkipped extends Error {}

const HOUR = 3_600_000;
const utc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Loads a vendor package's collector definition. A dynamic import keeps the demo running (and compiling)
 * when one vendor package is missing or broken: that scenario is skipped, not the demo.
 */
async function loadDefinition(vendor: Vendor): Promise<CollectorDefinition> {
  let module: Record<string, unknown>;
  try {
    module = (await import(vendor.package)) as Record<string, unknown>;
  } catch (error) {
    throw new ScenarioSkipped(`${vendor.package} cannot be loaded (${(error as Error).message.split('\n')[0]})`);
  }
  try {
    return definitionOf<CollectorDefinition>(vendor, module);
  } catch (error) {
    throw new ScenarioSkipped((error as Error).message);
  }
}

/** A vendor's side of the demo, given its collector definition. */
type StartScenario = (definition: CollectorDefinition, scale: number) => Promise<StartedScenario>;

const lark: StartScenario = async (definition, scale) => {
  const { startLarkSimulator } = await import('@collector/simulators');
  const count = Math.round(3_000 * scale);
  const now = Date.now();
  const credentials = { app_id: 'cli_demo0000000001', app_secret: 'demo-lark-app-secret' };
  const sim = await startLarkSimulator({
    appId: credentials.app_id,
    appSecret: credentials.app_secret,
    seed: 42,
    generate: { count, from: new Date(now - 6 * HOUR), to: new Date(now - 60_000) },
  });
  return {
    definition,
    inputs: {
      lark: { id: 'demo', credentials, services: { audit_infos: { override_base_url: sim.url, initial_start_time_in_utc_value: utc(now - 7 * HOUR) } } },
    },
    expected: { [(definition.inputs[0]?.services['audit_infos']?.tag as string) ?? 'lark']: count },
    close: () => sim.close(),
  };
};

const darktrace: StartScenario = async (definition, scale) => {
  const { startDarktraceSimulator } = await import('@collector/simulators');
  const now = Date.now();
  const start = Math.floor(now / HOUR) * HOUR - 24 * HOUR;
  const sim = await startDarktraceSimulator({
    seed: 42,
    breaches: { from: start, to: now - 60_000, everyMs: Math.max(1_000, Math.round((2 * 60_000) / scale)) },
    incidents: { from: start, to: now - 60_000, everyMs: Math.max(1_000, Math.round((10 * 60_000) / scale)) },
  });
  // RESPOND actions: one active, one pending confirmation, one already cleared.
  for (const fields of [{}, { active: false }, { active: false, cleared: true }]) sim.addAction(fields);
  const services = definition.inputs[0]?.services ?? {};
  const tag = (name: string) => (services[name]?.tag as string) ?? name;
  // Devo's current Darktrace page: all five services under Devo's names and tables.
  return {
    definition,
    inputs: {
      darktrace: {
        id: 'demo',
        credentials: { public_token: sim.publicToken, private_token: sim.privateToken, instance: sim.url },
        services: {
          antigena: { start_time_in_utc_format: utc(start) },
          aianalyst_incidentevents: { start_time_in_utc_format: utc(start) },
          summarystatistics: {},
          status: {},
          modelbreaches: { start_time_in_utc_format: utc(start) },
        },
      },
    },
    expected: {
      [tag('antigena')]: sim.actions().length,
      [tag('aianalyst_incidentevents')]: sim.incidentsBetween(start, now).length,
      [tag('summarystatistics')]: 1,
      [tag('status')]: 1,
      [tag('modelbreaches')]: sim.breachesBetween(start, now).length,
    },
    close: () => sim.close(),
  };
};

const proofpoint: StartScenario = async (definition, scale) => {
  const { startProofpointSimulator } = await import('@collector/simulators');
  const sim = await startProofpointSimulator({ principal: 'demo-principal', secret: 'demo-proofpoint-secret', seed: 42 });
  const now = Date.now();
  const from = now - 6 * HOUR;
  const services = ['messagesBlocked', 'messagesDelivered', 'clicksBlocked', 'clicksPermitted'] as const;
  const count = Math.round(150 * scale);
  for (const [i, service] of services.entries()) sim.generate({ service, count, from, to: now - 5 * 60_000, recipientsPerMessage: 2, seed: 100 + i });
  const defs = definition.inputs[0]?.services ?? {};
  const expected: Record<string, number> = {};
  for (const service of services) {
    const tag = (defs[service]?.tag as string) ?? service;
    expected[tag] = (expected[tag] ?? 0) + sim.events(service).length;
  }
  // `threats`: one Threat API summary per threat those records carry (forensics off, Devo's default).
  expected[(defs['threats']?.tag as string) ?? 'threats'] = sim.threats().length;
  return {
    definition,
    inputs: {
      proofpoint_tap: {
        id: 'demo',
        credentials: { username: sim.principal, password: sim.secret },
        services: Object.fromEntries([...services, 'threats'].map((s) => [s, { override_base_url: sim.url, start_time_in_utc_format: utc(from - 60_000) }])),
      },
    },
    expected,
    close: () => sim.close(),
  };
};

const o365: StartScenario = async (definition, scale) => {
  const { startO365Simulator } = await import('@collector/simulators');
  const now = Date.now();
  const credentials = { tenant_id: 'f3a1c2d4-0000-4f70-8a9b-000000000demo', client_id: '7d9e8f10-0000-4c3d-9e8f-00000000demo', client_secret: 'demo-entra-client-secret' };
  // Message trace data settles for up to a day, so the collector stays 25 h behind now by default and a
  // first run starts 15 minutes before that (as the original does): the demo's messages lie in between.
  const sim = await startO365Simulator({
    tenantId: credentials.tenant_id,
    clientId: credentials.client_id,
    clientSecret: credentials.client_secret,
    seed: 42,
    generate: { messages: Math.round(600 * scale), from: new Date(now - 25 * HOUR - 14 * 60_000), to: new Date(now - 25 * HOUR - 60_000), lateFraction: 0 },
  });
  const service = 'office365_exchange_message_graph_service';
  const tag = (definition.inputs[0]?.services[service]?.tag as string) ?? service;
  return {
    definition,
    inputs: {
      office365_exchange_message: {
        id: 'demo',
        credentials,
        max_historic_date_cutoff_days_back: 6,
        services: { [service]: { override_base_url: sim.url, override_base_auth_url: sim.url } },
      },
    },
    expected: { [tag]: sim.visibleRows(0, now).length },
    close: () => sim.close(),
  };
};

/** moto_server (S3 + SQS + STS) is part of the build machines' image; elsewhere it may be missing. */
function motoAvailable(): boolean {
  if (process.env['MOTO_SERVER']) return true;
  for (const probe of [['sh', ['-c', 'command -v moto_server']], ['python3', ['-c', 'import moto.server']]] as const) {
    try {
      execFileSync(probe[0], [...probe[1]], { stdio: 'ignore', timeout: 10_000 });
      return true;
    } catch {
      // try the next probe
    }
  }
  return false;
}

/** CloudTrail log files: `files` gzipped objects of `perFile` records each, with their S3 keys. */
function cloudTrailFiles(files: number, perFile: number): { key: string; body: Buffer }[] {
  const now = Date.now();
  const day = new Date(now).toISOString().slice(0, 10).replace(/-/g, '/');
  return Array.from({ length: files }, (_, f) => {
    const Records = Array.from({ length: perFile }, (_, i) => ({
      eventVersion: '1.08',
      eventTime: new Date(now - (files - f) * 60_000 + i * 100).toISOString().replace(/\.\d{3}/, ''),
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      awsRegion: 'us-east-1',
      sourceIPAddress: `203.0.113.${(f * perFile + i) % 250}`,
      userIdentity: { type: 'IAMUser', accountId: '123456789012', userName: `user${i % 7}` },
      responseElements: { ConsoleLogin: 'Success' },
      eventID: `demo-${f}-${i}`,
      eventType: 'AwsConsoleSignIn',
      recipientAccountId: '123456789012',
    }));
    return { key: `AWSLogs/123456789012/CloudTrail/us-east-1/${day}/file-${f}.json.gz`, body: gzipSync(JSON.stringify({ Records })) };
  });
}

interface AwsBackend {
  name: string;
  endpoint: string;
  queueUrl: string;
  close(): Promise<void>;
}

/** moto: a real S3 bucket whose ObjectCreated notifications go to the queue (moto sends them itself). */
async function motoBackend(files: { key: string; body: Buffer }[], credentials: { accessKeyId: string; secretAccessKey: string }): Promise<AwsBackend> {
  const { startMoto } = await import('@collector/testkit');
  const { S3Client, CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const moto = await startMoto({ timeoutMs: 15_000 });
  const base = { region: 'us-east-1', endpoint: moto.endpoint, credentials };
  const s3 = new S3Client({ ...base, forcePathStyle: true });
  const sqs = new SQSClient(base);
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'cloudtrail-events', Attributes: { VisibilityTimeout: '60' } }));
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    const bucket = 'demo-cloudtrail';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: { QueueConfigurations: [{ QueueArn: attributes.Attributes!['QueueArn']!, Events: ['s3:ObjectCreated:*'] }] },
      }),
    );
    for (const file of files) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: file.key, Body: file.body }));
    return { name: 'moto', endpoint: moto.endpoint, queueUrl: QueueUrl!, close: () => moto.stop() };
  } catch (error) {
    await moto.stop();
    throw error;
  } finally {
    s3.destroy();
    sqs.destroy();
  }
}

/** Without moto: the demo's own minimal S3/SQS/STS on one loopback port, notifications sent as S3 would. */
async function miniAwsBackend(files: { key: string; body: Buffer }[]): Promise<AwsBackend> {
  const { startMiniAws } = await import('@collector/simulators');
  const aws = await startMiniAws();
  const queueUrl = aws.createQueue('cloudtrail-events');
  for (const file of files) {
    aws.putObject('demo-cloudtrail', file.key, file.body);
    aws.notifyObjectCreated(queueUrl, 'demo-cloudtrail', file.key);
  }
  return { name: 'mini-aws', endpoint: aws.endpoint, queueUrl, close: () => aws.close() };
}

const awsSqs: StartScenario = async (definition, scale) => {
  const credentials = { accessKeyId: 'AKIADEMO0000000000', secretAccessKey: 'demo-aws-secret-access-key' };
  const perFile = 50;
  const files = cloudTrailFiles(Math.max(1, Math.round(20 * scale)), perFile);
  let backend: AwsBackend | undefined;
  if (process.env['DEMO_AWS'] !== 'mini' && motoAvailable()) backend = await motoBackend(files, credentials).catch(() => undefined);
  backend ??= await miniAwsBackend(files);
  const service = 'aws_sqs_cloudtrail';
  const tag = (definition.inputs[0]?.services[service]?.tag as string) ?? service;
  return {
    definition,
    note: backend.name === 'moto' ? 'on moto' : 'moto not found: on the demo\'s own mini S3/SQS',
    inputs: {
      sqs_collector: {
        id: 'demo',
        credentials: { aws_access_key_id: credentials.accessKeyId, aws_secret_access_key: credentials.secretAccessKey },
        services: {
          [service]: { base_url: backend.queueUrl, region: 'us-east-1', endpoint_url: backend.endpoint, ack_messages: true, sqs_wait_timeout: 1, request_period_in_seconds: 1 },
        },
      },
    },
    expected: { [tag]: files.length * perFile },
    close: () => backend.close(),
  };
};

const STARTS = { lark, 'o365-emt': o365, darktrace, 'proofpoint-tap': proofpoint, 'aws-sqs': awsSqs } satisfies Record<VendorName, StartScenario>;

/** Every collector of the registry, in its order. */
export const scenarios: DemoScenario[] = VENDORS.map((v) => ({ vendor: v.name, title: v.title, start: async (scale) => STARTS[v.name](await loadDefinition(v), scale) }));
