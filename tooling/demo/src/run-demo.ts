import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectorRuntime } from '@collector/sdk/host';
import { generatePki, startSyslogReceiver, type SyslogReceiver } from '@collector/testkit';
import { ScenarioSkipped, scenarios as allScenarios, type DemoScenario, type StartedScenario } from './scenarios.js';
import { renderProgress, renderSummary, type CollectorProgress } from './render.js';

import type { CollectorResult, DemoResult, TagResult } from './demo-result.js';
export type { CollectorResult, DemoResult, TagResult } from './demo-result.js';

export interface DemoOptions {
  /** Which scenarios (default: all five). */
  scenarios?: DemoScenario[];
  /** History size multiplier (1 = a few thousand events per collector). */
  scale?: number;
  /** Receiver: rsyslogd when installed ('auto'), or always the Node one. */
  receiver?: 'auto' | 'node' | 'rsyslog';
  /** Where progress and the summary go (default stdout); null for silence. */
  out?: NodeJS.WritableStream | null;
  /** Stop collectors still running after this long (default 90 s): the demo stays under two minutes. */
  deadlineMs?: number;
  /** Progress refresh period (default 500 ms). */
  refreshMs?: number;
  /** Working directory (default a new temporary one, removed at the end unless `keep`). */
  dir?: string;
  keep?: boolean;
}

interface Running {
  scenario: DemoScenario;
  started?: StartedScenario;
  runtime?: CollectorRuntime;
  result: CollectorResult;
  done: Promise<void>;
  startedAt: number;
}

const INTERNAL_TAG = /^devo\.collectors\.out\./;

/**
 * The demo's core: a PKI made on the spot, a TLS receiver that requires client certificates, every
 * scenario's simulator, and one in-process collector runtime for each (`--once`: pull until caught up,
 * deliver, save), with live progress and a per-tag summary of what the receiver got.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out === undefined ? process.stdout : options.out;
  const print = (text: string) => out?.write(text);
  const scale = options.scale ?? 1;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'collectors-demo-'));
  mkdirSync(dir, { recursive: true });
  const pki = await generatePki(join(dir, 'pki'));
  const receiver = await startSyslogReceiver(pki, join(dir, 'receiver'), options.receiver ?? 'auto');
  print(
    `Devo stand-in: ${receiver.kind === 'rsyslog' ? 'rsyslogd (TLS, client certificate required)' : 'Node TLS receiver (client certificate required)'} on ${receiver.host}:${receiver.port}\n` +
      `Work directory: ${dir}\n\n`,
  );

  const running: Running[] = [];
  for (const scenario of options.scenarios ?? allScenarios) {
    const result: CollectorResult = { vendor: scenario.vendor, title: scenario.title, status: 'ok', pulled: 0, delivered: 0, errors: [], seconds: 0 };
    const entry: Running = { scenario, result, done: Promise.resolve(), startedAt: Date.now() };
    running.push(entry);
    try {
      entry.started = await scenario.start(scale);
      if (entry.started.note) result.note = entry.started.note;
    } catch (error) {
      result.status = 'skipped';
      result.note = error instanceof ScenarioSkipped ? error.message : `could not start: ${(error as Error).message}`;
      continue;
    }
    const workDir = join(dir, scenario.vendor);
    for (const sub of ['certs', 'config', 'state']) mkdirSync(join(workDir, sub), { recursive: true });
    const config = {
      globals: {
        name: `demo-${scenario.vendor}`,
        persistence: { type: 'filesystem', config: { directory_name: 'state' } },
        http_server: { enabled: false },
      },
      outputs: {
        devo_1: { type: 'devo_platform', config: { address: receiver.host, port: receiver.port, type: 'SSL', chain: pki.caCert, cert: pki.clientCert, key: pki.clientKey } },
      },
      inputs: entry.started.inputs,
    };
    const logStream = createWriteStream(join(workDir, 'collector.log'));
    try {
      entry.runtime = new CollectorRuntime(entry.started.definition, { workDir, config, logStream });
    } catch (error) {
      result.status = 'failed';
      result.errors.push((error as Error).message);
      continue;
    }
    entry.startedAt = Date.now();
    entry.done = entry.runtime.runOnce().then(
      (summary) => {
        result.errors.push(...summary.errors);
        if (!summary.ok && result.status === 'ok') result.status = 'failed';
      },
      (error: unknown) => {
        result.status = 'failed';
        result.errors.push((error as Error).message);
      },
    ).finally(() => {
      result.seconds = (Date.now() - entry.startedAt) / 1000;
      logStream.end();
    });
  }

  const progress = (): CollectorProgress[] => {
    const counts = receiver.countsByTag();
    return running.map(({ scenario, started, runtime, result }) => {
      const tags = Object.keys(started?.expected ?? {});
      const totals = runtime?.totals() ?? [];
      result.pulled = totals.reduce((sum, t) => sum + t.received, 0);
      result.delivered = tags.reduce((sum, tag) => sum + (counts.get(tag) ?? 0), 0);
      let lagMs: number | undefined;
      for (const runner of runtime?.runners ?? []) {
        const time = runner.checkpointTime;
        if (time) lagMs = Math.max(lagMs ?? 0, Date.now() - time.getTime());
      }
      const expected = tags.reduce((sum, tag) => sum + (started?.expected[tag] ?? 0), 0);
      return { name: scenario.vendor, state: stateOf(result, runtime !== undefined), pulled: result.pulled, delivered: result.delivered, expected, lagMs, note: result.note };
    });
  };

  // Live progress: redrawn in place on a terminal, a line every few seconds otherwise.
  const tty = out !== null && (out as NodeJS.WriteStream).isTTY === true;
  let drawnLines = 0;
  let lastPlain = 0;
  const draw = (final = false) => {
    if (!out) return;
    const text = renderProgress(progress());
    if (tty) {
      if (drawnLines) out.write(`\x1b[${drawnLines}A\x1b[0J`);
      out.write(text);
      drawnLines = text.split('\n').length - 1;
    } else if (final || Date.now() - lastPlain >= 3_000) {
      out.write(text + '\n');
      lastPlain = Date.now();
    }
  };
  const timer = setInterval(() => draw(), options.refreshMs ?? 500);

  const deadline = options.deadlineMs ?? 90_000;
  const allDone = Promise.all(running.map((r) => r.done));
  const timedOut = await Promise.race([allDone.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), deadline).unref())]);
  if (timedOut) {
    for (const r of running) {
      if (r.runtime && r.result.status === 'ok' && r.result.seconds === 0) r.result.status = 'timed out';
    }
    await Promise.allSettled(running.map((r) => r.runtime?.stop() ?? Promise.resolve()));
    await allDone;
  }
  // Everything was acknowledged by the TLS connection; give the receiver a moment to count the last lines.
  await settle(() => [...receiver.countsByTag().values()].reduce((a, b) => a + b, 0));
  clearInterval(timer);
  draw(true);

  const counts = receiver.countsByTag();
  const tags: TagResult[] = [];
  const seen = new Set<string>();
  for (const { scenario, started } of running) {
    for (const [tag, expected] of Object.entries(started?.expected ?? {})) {
      tags.push({ tag, collector: scenario.vendor, expected, arrived: counts.get(tag) ?? 0 });
      seen.add(tag);
    }
  }
  const internalTags = new Map<string, number>();
  for (const [tag, count] of counts) {
    if (seen.has(tag)) continue;
    if (INTERNAL_TAG.test(tag)) internalTags.set(tag, count);
    else tags.push({ tag, collector: '?', expected: undefined, arrived: count });
  }
  progress(); // final pulled/delivered numbers into the results

  const collectors = running.map((r) => r.result);
  const ok =
    collectors.every((c) => c.status === 'ok' || c.status === 'skipped') &&
    collectors.some((c) => c.status === 'ok') &&
    tags.every((t) => t.expected === undefined || t.arrived === t.expected);
  const result: DemoResult = { ok, receiver: receiver.kind, collectors, tags, internalTags, dir };
  print('\n' + renderSummary(result));

  await receiver.close();
  await Promise.allSettled(running.map((r) => r.started?.close() ?? Promise.resolve()));
  if (!options.dir && !options.keep) rmSync(dir, { recursive: true, force: true });
  return result;
}

function stateOf(result: CollectorResult, started: boolean): CollectorProgress['state'] {
  if (result.status !== 'ok') return result.status;
  if (!started) return 'starting';
  return result.seconds > 0 ? 'done' : 'running';
}

/** Waits until `count()` stops changing for a short while (at most 5 s). */
async function settle(count: () => number): Promise<void> {
  let last = -1;
  for (let i = 0; i < 25; i++) {
    const now = count();
    if (now === last) return;
    last = now;
    await new Promise((r) => setTimeout(r, 200));
  }
}
