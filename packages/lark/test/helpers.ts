import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, type DeliveryRecord, type Output, type RunSummary } from '@collector/sdk';
import { startLarkSimulator, type LarkSimulator, type LarkSimulatorOptions } from '@collector/simulators';
import { larkCollector } from '@collector/lark';
import { devoOutputConfig, type Rsyslog } from '@collector/testkit';

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
  /** The vendor events (not the collector's own log lines). */
  events(): Record<string, unknown>[] {
    return this.records.filter((r) => !r.tag.startsWith('devo.collectors.')).map((r) => JSON.parse(r.message) as Record<string, unknown>);
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
  /** What the SDK acknowledged as delivered (events and the collector's own log lines). */
  output: CapturingOutput;
  logs: string;
  /** With a receiver: the event lines (not internal logs) rsyslog received during this run, parsed. */
  received: ReceivedLine[];
}

export interface ReceivedLine {
  hostname: string;
  tag: string;
  message: string;
  event: Record<string, unknown>;
}

/** `<14>YYYY-MM-DD HH:MM:SS.mmm <hostname> <tag>: <message>` (CONVENTIONS.md). */
const SYSLOG_LINE = /^<14>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (\S+) (\S+): ([\s\S]*)$/;

function eventLines(lines: readonly string[]): ReceivedLine[] {
  const parsed: ReceivedLine[] = [];
  for (const line of lines) {
    const match = SYSLOG_LINE.exec(line);
    if (!match) throw new Error(`Not a DCSDK syslog line: ${line.slice(0, 200)}`);
    const [, hostname, tag, message] = match as unknown as [string, string, string, string];
    if (tag.startsWith('devo.collectors.')) continue;
    parsed.push({ hostname, tag, message, event: JSON.parse(message) as Record<string, unknown> });
  }
  return parsed;
}

function isEventRecord(record: DeliveryRecord): boolean {
  return !record.tag.startsWith('devo.collectors.');
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
  let received: ReceivedLine[] = [];
  if (rsyslog) {
    // runOnce returned after every output acknowledged; rsyslog may still be writing its file.
    const expected = output.records.filter(isEventRecord).length;
    const deadline = Date.now() + 10_000;
    for (;;) {
      received = eventLines(rsyslog.lines().slice(from));
      if (received.length >= expected || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return { summary, output, logs, received };
}

const FAST_RECONNECT = { connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 };
