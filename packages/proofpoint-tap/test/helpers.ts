import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, type RunSummary } from '@collector/sdk/host';
import { CapturingOutput, devoOutputConfig, waitForReceivedEvents, type ReceivedEvent, type Rsyslog } from '@collector/testkit';
import { startProofpointSimulator, type ProofpointSimulator, type ProofpointSimulatorOptions } from '@collector/simulators';
import { proofpointTapCollector } from '../src/index.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const SERVICES = ['messagesBlocked', 'messagesDelivered', 'clicksBlocked', 'clicksPermitted'] as const;
export type ServiceName = (typeof SERVICES)[number] | 'threats';
export const THREATS_TAG = 'mail.proofpoint.tap_threats.events';

const closers: (() => Promise<void>)[] = [];
export async function closeAll(): Promise<void> {
  while (closers.length) await closers.pop()!();
}

export async function simulator(options: ProofpointSimulatorOptions = {}): Promise<ProofpointSimulator> {
  const sim = await startProofpointSimulator({ principal: 'svc-principal-1', secret: 'Sup3r-Secret-Value-42', ...options });
  closers.push(sim.close);
  return sim;
}

export function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'pp-tap-'));
}

export interface ConfigOptions {
  services?: Partial<Record<ServiceName, Record<string, unknown>>>;
  /** Options applied to every listed service. */
  common?: Record<string, unknown>;
  password?: string;
  input?: Record<string, unknown>;
}

export function config(sim: ProofpointSimulator, opts: ConfigOptions = {}) {
  const services = opts.services ?? Object.fromEntries(SERVICES.map((s) => [s, {}]));
  return {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } },
    inputs: {
      proofpoint_tap: {
        id: 123456,
        credentials: { username: sim.principal, password: opts.password ?? sim.secret },
        ...(opts.input ?? {}),
        services: Object.fromEntries(
          Object.entries(services).map(([name, o]) => [name, { override_base_url: sim.url, ...(opts.common ?? {}), ...(o ?? {}) }]),
        ),
      },
    },
  };
}

export interface RunResult {
  out: CapturingOutput;
  summary: RunSummary;
  logs: string;
  /** With a receiver: the vendor event lines rsyslog received during this run, parsed. */
  received: ReceivedEvent[];
}

/**
 * One `--once` run of the real collector definition through the SDK. With `rsyslog`, events also go over
 * TLS to the real receiver as `devo_platform`; the capturing output beside it says how many to wait for.
 */
export async function runOnce(dir: string, cfg: unknown, rsyslog?: Rsyslog): Promise<RunResult> {
  const out = new CapturingOutput();
  const stream = new PassThrough();
  let logs = '';
  stream.on('data', (d) => (logs += d));
  const from = rsyslog?.lines().length ?? 0;
  const withReceiver = rsyslog ? { ...(cfg as Record<string, unknown>), outputs: devoOutputConfig(rsyslog) } : cfg;
  const runtime = new CollectorRuntime(proofpointTapCollector, { workDir: dir, config: withReceiver, outputs: [out], logStream: stream });
  const summary = await runtime.runOnce();
  // runOnce returned after every output acknowledged; rsyslog may still be writing its file.
  const received = rsyslog ? await waitForReceivedEvents(rsyslog, from, out.events().length) : [];
  return { out, summary, logs, received };
}

/** Every file under state/ as text (secrets must never be in there). */
export function stateText(dir: string): string {
  const stateDir = join(dir, 'state');
  return readdirSync(stateDir, { recursive: true })
    .map((f) => String(f))
    .filter((f) => f.endsWith('.json'))
    .map((f) => readFileSync(join(stateDir, f), 'utf8'))
    .join('\n');
}

export const isoAgo = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
