import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, type Output, type RunSummary } from '@collector/sdk/host';
import { startO365Simulator, type O365Simulator, type O365SimulatorOptions } from '@collector/simulators';
import { CapturingOutput, devoOutputConfig, parseReceivedLines, startRsyslog, type Rsyslog } from '@collector/testkit';
import { MESSAGE_TRACE_TAG, o365EmtCollector } from '@collector/o365-emt';

export const TENANT = 'f3a1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b';
export const CLIENT_ID = '7d9e8f10-1a2b-4c3d-9e8f-a0b1c2d3e4f5';
export const CLIENT_SECRET = 'Zq8~sEcReT.vAlUe-0123456789abcdefXYZ';
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

const closers: (() => Promise<void>)[] = [];

/** Closes every simulator and target the helpers below started (each test file's afterEach). */
export async function closeAll(): Promise<void> {
  while (closers.length) await closers.pop()!();
}

export interface Delivered {
  tag: string;
  event: Record<string, unknown>;
}

/**
 * Where a test's events go: the real rsyslog TLS receiver through the SDK's devo_platform output, or a
 * capturing Output. Either way `events()` is what arrived, in order.
 */
export interface Target {
  kind: 'rsyslog' | 'capture';
  /** Extra keys for the config (`outputs`). */
  configOutputs: Record<string, unknown> | undefined;
  outputs: Output[];
  /** Events with this tag that arrived (default: message trace rows; the collector's own log lines left out). */
  events(tag?: string): Delivered[];
  /** Every raw line that arrived, log lines included (for the secrets check). */
  raw(): string[];
  close(): Promise<void>;
}

/** `capture: true` for tests about the API side only (faster acknowledgements than a TLS round trip). */
export async function startTarget(options: { capture?: boolean } = {}): Promise<Target> {
  const target = options.capture ? captureTarget() : await rsyslogTarget();
  closers.push(() => target.close());
  return target;
}

async function rsyslogTarget(): Promise<Target> {
  const rsyslog: Rsyslog = await startRsyslog();
  return {
    kind: 'rsyslog',
    configOutputs: devoOutputConfig(rsyslog),
    outputs: [],
    events: (tag = MESSAGE_TRACE_TAG) =>
      parseReceivedLines(rsyslog.lines())
        .filter((l) => l.tag === tag)
        .map((l) => ({ tag: l.tag, event: JSON.parse(l.message) as Record<string, unknown> })),
    raw: () => rsyslog.lines(),
    close: () => rsyslog.stop(),
  };
}

function captureTarget(): Target {
  const capture = new CapturingOutput();
  return {
    kind: 'capture',
    configOutputs: undefined,
    outputs: [capture],
    events: (tag = MESSAGE_TRACE_TAG) => capture.events(tag).map((event) => ({ tag, event })),
    raw: () => capture.records.map((r) => r.message),
    close: async () => undefined,
  };
}

/** A simulator with the test tenant's credentials, closed by `closeAll()`. */
export async function startSim(options: Partial<O365SimulatorOptions> = {}): Promise<O365Simulator> {
  const sim = await startO365Simulator({ tenantId: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...options });
  closers.push(() => sim.close());
  return sim;
}

/** A simulator and a target (rsyslog unless `capture`), both closed by `closeAll()`. */
export async function startSimAndTarget(options: Partial<O365SimulatorOptions> = {}, capture = false): Promise<{ sim: O365Simulator; target: Target }> {
  const sim = await startSim(options);
  const target = await startTarget({ capture });
  return { sim, target };
}

export interface ConfigArgs {
  input?: Record<string, unknown>;
  /** Undefined: no `services:` key at all. */
  services: Record<string, Record<string, unknown>> | undefined;
  credentials?: Record<string, unknown>;
}

export function makeConfig(target: Target | undefined, args: ConfigArgs) {
  return {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false } },
    ...(target?.configOutputs ? { outputs: target.configOutputs } : {}),
    inputs: {
      office365_exchange_message: {
        id: 7,
        credentials: args.credentials ?? { tenant_id: TENANT, client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
        ...args.input,
        ...(args.services ? { services: args.services } : {}),
      },
    },
  };
}

export interface RunResult {
  summary: RunSummary;
  logs: string;
}

/**
 * Most tests back-fill their simulated days: `--start-at` far back, which the collector clamps to the
 * historic cutoff (now − max_historic_date_cutoff_days_back + margin). `startAt: undefined` runs without it
 * (the first window is then now − delay − 15 min).
 */
export const BACKFILL = { startAt: new Date(Date.now() - 365 * DAY) as Date | undefined };

/** One `--once` run: returns the summary and every log line written. */
export async function runOnce(workDir: string, target: Target, config: unknown, options: { startAt?: Date | undefined } = BACKFILL): Promise<RunResult> {
  const stream = new PassThrough();
  let logs = '';
  stream.on('data', (d) => (logs += d));
  // Short back-off: retries of 5xx and network errors take milliseconds here, not seconds.
  const runtime = new CollectorRuntime(o365EmtCollector, { workDir, config, outputs: target.outputs, logStream: stream, http: { backoffBaseMs: 20 }, startAt: options.startAt });
  const summary = await runtime.runOnce();
  return { summary, logs };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'o365-emt-'));
}

/** Waits until the target holds `n` events (rsyslog writes asynchronously). */
export async function waitForEvents(target: Target, n: number, timeoutMs = 10_000, tag?: string): Promise<Delivered[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = target.events(tag);
    if (got.length >= n || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function secretsIn(text: string): string[] {
  return [TENANT, CLIENT_ID, CLIENT_SECRET, encodeURIComponent(CLIENT_SECRET)].filter((s) => text.includes(s));
}
