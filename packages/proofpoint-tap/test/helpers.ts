import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, type DeliveryRecord, type Output, type RunSummary } from '@collector/sdk';
import { devoOutputConfig, type Rsyslog } from '@collector/testkit';
import { startProofpointSimulator, type ProofpointSimulator, type ProofpointSimulatorOptions } from '@collector/simulators';
import { proofpointTapCollector } from '../src/index.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const SERVICES = ['messagesBlocked', 'messagesDelivered', 'clicksBlocked', 'clicksPermitted'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Records every acknowledged line, like a Devo receiver would. */
export class CapturingOutput implements Output {
  readonly type = 'capture';
  readonly records: DeliveryRecord[] = [];
  constructor(readonly name = 'capture') {}
  async start() {}
  /** The collector's own log lines (tag devo.collectors.*), kept apart from the vendor events. */
  readonly internal: DeliveryRecord[] = [];
  async write(records: readonly DeliveryRecord[]) {
    for (const r of records) (r.tag.startsWith('devo.collectors.') ? this.internal : this.records).push(r);
  }
  ready() {
    return true;
  }
  async stop() {}
  events(tag?: string): Record<string, unknown>[] {
    return this.records.filter((r) => !tag || r.tag === tag).map((r) => JSON.parse(r.message) as Record<string, unknown>);
  }
}

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

export interface ReceivedLine {
  pri: string;
  hostname: string;
  tag: string;
  event: Record<string, unknown>;
  raw: string;
}

export interface RunResult {
  out: CapturingOutput;
  summary: RunSummary;
  logs: string;
  /** With a receiver: the vendor event lines rsyslog received during this run, parsed. */
  received: ReceivedLine[];
}

const LINE = /^<(\d+)>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (\S+) (\S+): ([\s\S]*)$/;

function parseLines(lines: string[]): ReceivedLine[] {
  const out: ReceivedLine[] = [];
  for (const raw of lines) {
    const m = LINE.exec(raw);
    if (!m || m[4]!.startsWith('devo.collectors.')) continue;
    out.push({ pri: m[1]!, hostname: m[3]!, tag: m[4]!, event: JSON.parse(m[5]!) as Record<string, unknown>, raw });
  }
  return out;
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
  let received: ReceivedLine[] = [];
  if (rsyslog) {
    // runOnce returned after every output acknowledged; rsyslog may still be writing its file.
    const deadline = Date.now() + 10_000;
    for (;;) {
      received = parseLines(rsyslog.lines().slice(from));
      if (received.length >= out.records.length || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
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
