import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, type Output } from '@collector/sdk/host';
import { startDarktraceSimulator, type DarktraceSimulator } from '@collector/simulators';
import { darktraceCollector } from '@collector/darktrace';
import { CapturingOutput, devoOutputConfig, waitForReceivedEvents, type Rsyslog } from '@collector/testkit';

export const HOUR = 3_600_000;

const sims: DarktraceSimulator[] = [];

/** A simulator that `closeSimulators()` (each test file's afterEach) closes again. */
export async function simulator(opts: Parameters<typeof startDarktraceSimulator>[0] = {}): Promise<DarktraceSimulator> {
  const sim = await startDarktraceSimulator(opts);
  sims.push(sim);
  return sim;
}

export async function closeSimulators(): Promise<void> {
  while (sims.length) await sims.pop()!.close();
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
  // runOnce returns once every output acknowledged; rsyslog may still be writing its file.
  const received = rsyslog ? await waitForReceivedEvents(rsyslog, from, out.events().length) : [];
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

/** Devo's tables of the five services (docs: Devo's current Darktrace page). */
export const TAGS = {
  antigena: 'edr.darktrace.respond.antigena',
  aianalyst_incidentevents: 'edr.darktrace.respond.incident_event',
  summarystatistics: 'edr.darktrace.respond.summary',
  status: 'edr.darktrace.respond.status',
  modelbreaches: 'edr.darktrace.respond.model_breach',
} as const;
