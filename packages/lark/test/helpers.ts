import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, type RunSummary } from '@collector/sdk/host';
import { startLarkSimulator, type LarkSimulator, type LarkSimulatorOptions } from '@collector/simulators';
import { larkCollector } from '@collector/lark';
import { CapturingOutput, devoOutputConfig, waitForReceivedEvents, type ReceivedEvent, type Rsyslog } from '@collector/testkit';

export const APP_ID = 'cli_a1b2c3d4e5f6';
export const APP_SECRET = 'Lark-Secret-9f8e7d6c5b4a';
export const HOUR_MS = 3_600_000;

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

/** The `unique_id` of each received event (Lark's key for an audit record). */
export function uniqueIds(lines: readonly ReceivedEvent[]): string[] {
  return lines.map((l) => String(l.event['unique_id']));
}

export interface Run {
  summary: RunSummary;
  /** What the SDK acknowledged as delivered to the capturing output (the events: a custom output gets no log lines). */
  output: CapturingOutput;
  logs: string;
  /** With a receiver: the event lines (not internal logs) rsyslog received during this run, parsed. */
  received: ReceivedEvent[];
}

/**
 * One `--once` run of the real collector definition through the SDK. With `rsyslog`, events go over TLS to
 * the real receiver as `devo_platform` (the capturing output runs beside it only to know how many lines to
 * wait for); the run's event lines as rsyslog wrote them are returned in `received`.
 */
export async function runOnce(dir: string, config: Record<string, unknown>, rsyslog?: Rsyslog): Promise<Run> {
  const stream = new PassThrough();
  let logs = '';
  stream.on('data', (chunk) => (logs += chunk));
  const output = new CapturingOutput();
  const from = rsyslog?.lines().length ?? 0;
  const withReceiver = rsyslog
    ? { ...config, outputs: { ...devoOutputConfig(rsyslog), ...((config['outputs'] as object | undefined) ?? {}) } }
    : config;
  if (rsyslog) Object.assign((withReceiver['outputs'] as Record<string, { config: object }>)['devo_1']!.config, FAST_RECONNECT);
  const runtime = new CollectorRuntime(larkCollector, { workDir: dir, config: withReceiver, outputs: [output], logStream: stream });
  const summary = await runtime.runOnce();
  // runOnce returned after every output acknowledged; rsyslog may still be writing its file.
  const received = rsyslog ? await waitForReceivedEvents(rsyslog, from, output.events().length) : [];
  return { summary, output, logs, received };
}

const FAST_RECONNECT = { connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 };
