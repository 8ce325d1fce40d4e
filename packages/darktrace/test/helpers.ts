import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, type DeliveryRecord, type Output } from '@collector/sdk';
import type { DarktraceSimulator } from '@collector/simulators';
import { darktraceCollector } from '@collector/darktrace';
import { devoOutputConfig, type Rsyslog } from '@collector/testkit';

export const HOUR = 3_600_000;

/** Records every acknowledged line, as a library user's custom output would. */
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
  /** The delivered events, optionally only those of one tag. */
  events(tag?: string): Record<string, unknown>[] {
    return this.records.filter((r) => tag === undefined || r.tag === tag).map((r) => JSON.parse(r.message) as Record<string, unknown>);
  }
}

export interface Credentials {
  public_token: string;
  private_token: string;
  instance: string;
}

export function credentialsFor(sim: DarktraceSimulator): Credentials {
  return { public_token: sim.publicToken, private_token: sim.privateToken, instance: sim.url };
}

export function darktraceConfig(credentials: unknown, services: Record<string, unknown>, globals: Record<string, unknown> = {}, outputs?: unknown) {
  return {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false }, ...globals },
    ...(outputs ? { outputs } : {}),
    inputs: { darktrace: { id: 'darktrace_respond', enabled: true, credentials, services } },
  };
}

export function newWorkDir(): string {
  return mkdtempSync(join(tmpdir(), 'darktrace-'));
}

/** A runtime whose log lines are captured in `logs()`. */
export function runtimeFor(workDir: string, config: unknown, outputs: Output[] = [new CapturingOutput()]) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  // The SDK's 5xx/network retries are real; keep their back-off short in tests.
  const runtime = new CollectorRuntime(darktraceCollector, { workDir, config, outputs, logStream: stream, http: { backoffBaseMs: 1, maxBackoffMs: 5 } });
  return { runtime, logs: () => text };
}

/** A line rsyslog received: `<14>YYYY-MM-DD HH:MM:SS.mmm <hostname> <tag>: <message>` (CONVENTIONS.md). */
export interface ReceivedLine {
  hostname: string;
  tag: string;
  event: Record<string, unknown>;
}

const SYSLOG_LINE = /^<14>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (\S+) (\S+): ([\s\S]*)$/;

function parseLines(lines: readonly string[]): ReceivedLine[] {
  return lines.map((line) => {
    const match = SYSLOG_LINE.exec(line);
    if (!match) throw new Error(`Not a DCSDK syslog line: ${line.slice(0, 200)}`);
    return { hostname: match[1]!, tag: match[2]!, event: JSON.parse(match[3]!) as Record<string, unknown> };
  });
}

const isVendorTag = (tag: string) => !tag.startsWith('devo.collectors.');

/**
 * One `--once` run of the real collector. With `rsyslog`, events go through the SDK's `devo_platform`
 * output over TLS to the real receiver, and `delivered(tag)` reads what rsyslog wrote during this run; the
 * capturing output runs beside it only to know how many lines to wait for.
 */
export async function runOnce(workDir: string, config: Record<string, unknown>, rsyslog?: Rsyslog) {
  const out = new CapturingOutput();
  const from = rsyslog?.lines().length ?? 0;
  const withReceiver = rsyslog ? { ...config, outputs: devoOutputConfig(rsyslog) } : config;
  if (rsyslog) Object.assign((withReceiver['outputs'] as Record<string, { config: object }>)['devo_1']!.config, { connecting_initial_wait_in_seconds: 0.05, connecting_max_wait_in_seconds: 0.2 });
  const { runtime, logs } = runtimeFor(workDir, withReceiver, [out]);
  const summary = await runtime.runOnce();
  let received: ReceivedLine[] = [];
  if (rsyslog) {
    // runOnce returns once every output acknowledged; rsyslog may still be writing its file.
    const expected = out.records.filter((r) => isVendorTag(r.tag)).length;
    const deadline = Date.now() + 10_000;
    for (;;) {
      received = parseLines(rsyslog.lines().slice(from)).filter((l) => isVendorTag(l.tag));
      if (received.length >= expected || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  const delivered = (tag: string) => (rsyslog ? received.filter((l) => l.tag === tag).map((l) => l.event) : out.events(tag));
  return { summary, out, logs: logs(), received, delivered };
}

/** The hour boundary `hours` hours before now. */
export function hoursAgo(hours: number): Date {
  return new Date(Math.floor(Date.now() / HOUR) * HOUR - hours * HOUR);
}

export function utc(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const TAGS = {
  modelbreaches: 'sig.darktrace.respond.modelbreaches',
  aianalyst: 'sig.darktrace.respond.aianalyst',
  summarystatistics: 'sig.darktrace.respond.summarystatistics',
} as const;
