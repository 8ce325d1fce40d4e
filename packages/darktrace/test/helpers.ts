import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, type DeliveryRecord, type Output } from '@collector/sdk';
import type { DarktraceSimulator } from '@collector/simulators';
import { darktraceCollector } from '@collector/darktrace';

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
export function runtimeFor(workDir: string, config: unknown, outputs: Output[] = []) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  const runtime = new CollectorRuntime(darktraceCollector, { workDir, config, outputs, logStream: stream });
  return { runtime, logs: () => text };
}

/** One `--once` run; returns the summary, the captured lines and the log text. */
export async function runOnce(workDir: string, config: unknown) {
  const out = new CapturingOutput();
  const { runtime, logs } = runtimeFor(workDir, config, [out]);
  const summary = await runtime.runOnce();
  return { summary, out, logs: logs() };
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
