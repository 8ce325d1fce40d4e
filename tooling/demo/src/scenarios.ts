import type { CollectorDefinition } from '@collector/sdk';

/** What a scenario hands the demo once its vendor side (simulator or emulator) is running. */
export interface StartedScenario {
  definition: CollectorDefinition;
  /** The `inputs:` block of config.yaml, pointing at the simulator. */
  inputs: Record<string, unknown>;
  /** Ground truth: how many events each tag should receive (undefined when the vendor decides live). */
  expected: Record<string, number>;
  close(): Promise<void>;
}

/** One collector in the demo: its simulator, the config that points at it, and the expected outcome. */
export interface DemoScenario {
  /** The folder under apps/ and packages/. */
  vendor: string;
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
 * Loads a vendor package's collector definition by export name. A dynamic import keeps the demo running
 * (and compiling) when one vendor package is missing or broken: that scenario is skipped, not the demo.
 */
async function loadDefinition(pkg: string, exportName: string): Promise<CollectorDefinition> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pkg)) as Record<string, unknown>;
  } catch (error) {
    throw new ScenarioSkipped(`${pkg} cannot be loaded (${(error as Error).message.split('\n')[0]})`);
  }
  const definition = module[exportName];
  if (!definition) throw new ScenarioSkipped(`${pkg} has no export ${exportName}`);
  return definition as CollectorDefinition;
}

export const larkScenario: DemoScenario = {
  vendor: 'lark',
  title: 'Lark audit logs',
  async start(scale) {
    const definition = await loadDefinition('@collector/lark', 'larkCollector');
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
  },
};

export const darktraceScenario: DemoScenario = {
  vendor: 'darktrace',
  title: 'Darktrace',
  async start(scale) {
    const definition = await loadDefinition('@collector/darktrace', 'darktraceCollector');
    const { startDarktraceSimulator } = await import('@collector/simulators');
    const now = Date.now();
    const start = Math.floor(now / HOUR) * HOUR - 24 * HOUR;
    const sim = await startDarktraceSimulator({
      seed: 42,
      breaches: { from: start, to: now - 60_000, everyMs: Math.max(1_000, Math.round((2 * 60_000) / scale)) },
      incidents: { from: start, to: now - 60_000, everyMs: Math.max(1_000, Math.round((10 * 60_000) / scale)) },
    });
    const services = definition.inputs[0]?.services ?? {};
    const tag = (name: string) => (services[name]?.tag as string) ?? name;
    return {
      definition,
      inputs: {
        darktrace: {
          id: 'demo',
          credentials: { public_token: sim.publicToken, private_token: sim.privateToken, instance: sim.url },
          services: {
            modelbreaches: { start_time_in_utc_format: utc(start) },
            aianalyst: { start_time_in_utc_format: utc(start) },
            summarystatistics: {},
          },
        },
      },
      expected: {
        [tag('modelbreaches')]: sim.breachesBetween(start, now).length,
        [tag('aianalyst')]: sim.incidentsBetween(start, now).length,
        [tag('summarystatistics')]: 1,
      },
      close: () => sim.close(),
    };
  },
};

export const proofpointScenario: DemoScenario = {
  vendor: 'proofpoint-tap',
  title: 'Proofpoint TAP',
  async start(scale) {
    const definition = await loadDefinition('@collector/proofpoint-tap', 'proofpointTapCollector');
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
    return {
      definition,
      inputs: {
        proofpoint_tap: {
          id: 'demo',
          credentials: { username: sim.principal, password: sim.secret },
          services: Object.fromEntries(services.map((s) => [s, { override_base_url: sim.url, start_time_in_utc_format: utc(from - 60_000) }])),
        },
      },
      expected,
      close: () => sim.close(),
    };
  },
};

/** Every scenario, in the order the demo shows them. */
export const scenarios: DemoScenario[] = [larkScenario, darktraceScenario, proofpointScenario];
