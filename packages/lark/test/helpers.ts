import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, type DeliveryRecord, type Output, type RunSummary } from '@collector/sdk';
import { startLarkSimulator, type LarkSimulator, type LarkSimulatorOptions } from '@collector/simulators';
import { larkCollector } from '@collector/lark';

export const APP_ID = 'cli_a1b2c3d4e5f6';
export const APP_SECRET = 'Lark-Secret-9f8e7d6c5b4a';
export const HOUR_MS = 3_600_000;

/** An output that records every acknowledged line (until the rsyslog receiver is wired in). */
export class CapturingOutput implements Output {
  readonly type = 'capture';
  readonly records: DeliveryRecord[] = [];
  constructor(readonly name = 'capture') {}
  async start() {}
  async write(records: readonly DeliveryRecord[]) {
    this.records.push(...records);
  }
  ready() {
    return true;
  }
  async stop() {}
  events(): Record<string, unknown>[] {
    return this.records.map((r) => JSON.parse(r.message) as Record<string, unknown>);
  }
  uniqueIds(): string[] {
    return this.events().map((e) => String(e['unique_id']));
  }
}

const closers: (() => Promise<void>)[] = [];
export async function closeAll(): Promise<void> {
  while (closers.length) await closers.pop()!();
}

export async function simulator(options: Partial<LarkSimulatorOptions> = {}): Promise<LarkSimulator> {
  const sim = await startLarkSimulator({ appId: APP_ID, appSecret: APP_SECRET, ...options });
  closers.push(sim.close);
  return sim;
}

export function isoSecondsAgo(ms: number): string {
  return new Date(Date.now() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A config.yaml as an object: one lark input pointing at the simulator, filesystem persistence. */
export function larkConfig(url: string, service: Record<string, unknown> = {}, input: Record<string, unknown> = {}) {
  return {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } },
    inputs: {
      lark: {
        id: 964383,
        credentials: { app_id: APP_ID, app_secret: APP_SECRET },
        ...input,
        services: { audit_infos: { override_base_url: url, ...service } },
      },
    },
  };
}

export function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'lark-test-'));
}

export interface Run {
  summary: RunSummary;
  output: CapturingOutput;
  logs: string;
}

/** One `--once` run of the real collector definition through the SDK. */
export async function runOnce(dir: string, config: unknown, output = new CapturingOutput()): Promise<Run> {
  const stream = new PassThrough();
  let logs = '';
  stream.on('data', (chunk) => (logs += chunk));
  const runtime = new CollectorRuntime(larkCollector, { workDir: dir, config, outputs: [output], logStream: stream });
  const summary = await runtime.runOnce();
  return { summary, output, logs };
}
