import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRuntime, runCollector } from '@collector/sdk/host';
import { darktraceCollector } from '@collector/darktrace';
import type { DarktraceSimulator } from '@collector/simulators';
import { CapturingOutput, waitForReceivedEvents } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';
import { closeSimulators, hoursAgo, newWorkDir, simulator, TAGS, utc } from './helpers.js';

const rsyslog = useRsyslog();
afterEach(closeSimulators);

const SERVICES = ['antigena', 'aianalyst_incidentevents', 'summarystatistics', 'status', 'modelbreaches'] as const;

/**
 * config.yaml as an operator writes it from Devo's current Darktrace Respond page: the five services under
 * Devo's names, each with Devo's keys and nothing else (no tag override), and Devo's output block pointing
 * at the test's TLS receiver. Only `http_server` is ours: tests must not bind port 3000.
 */
function devoPageConfig(sim: DarktraceSimulator, start: Date, services: readonly string[] = SERVICES): string {
  const service = (name: string) => `      ${name}:
        start_time_in_utc_format: "${utc(start)}"
        request_period_in_seconds: 60
        override_time_window_interval_in_minutes: 60`;
  return `globals:
  debug: false
  id: not_used
  name: darktrace
  persistence:
    type: filesystem
    config:
      directory_name: state
  http_server: {enabled: false}
outputs:
  devo_us_1:
    type: devo_platform
    config:
      address: 127.0.0.1
      port: ${rsyslog.port}
      type: SSL
      chain: ${rsyslog.pki.caCert}
      cert: ${rsyslog.pki.clientCert}
      key: ${rsyslog.pki.clientKey}
inputs:
  darktrace:
    id: 12345
    enabled: true
    credentials:
      public_token: ${sim.publicToken}
      private_token: ${sim.privateToken}
      instance: ${sim.url}
    services:
${services.map(service).join('\n')}
`;
}

function workDirWith(yaml: string): string {
  const dir = newWorkDir();
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'config.yaml'), yaml);
  return dir;
}

async function cli(workDir: string, ...argv: string[]) {
  const logStream = new PassThrough();
  const stdout = new PassThrough();
  let text = '';
  logStream.on('data', (d) => (text += d));
  stdout.on('data', (d) => (text += d));
  const code = await runCollector(darktraceCollector, { argv, workDir, logStream, stdout, handleSignals: false });
  return { code, text };
}

/** One pull of every service through the config file, delivered over TLS to rsyslog; what arrived per table. */
async function pull(workDir: string) {
  const counter = new CapturingOutput();
  const from = rsyslog.lines().length;
  const runtime = new CollectorRuntime(darktraceCollector, { workDir, outputs: [counter], logStream: new PassThrough() });
  const summary = await runtime.runOnce();
  const received = await waitForReceivedEvents(rsyslog, from, counter.events().length);
  return { summary, byTag: (tag: string) => received.filter((l) => l.tag === tag).map((l) => l.event) };
}

const key = (field: string) => (events: Record<string, unknown>[]) => events.map((e) => String(e[field])).sort();

describe("a config written from Devo's current Darktrace page", () => {
  it('validates, passes --check on every service, and delivers each breach, incident event and action once into its Devo table', async () => {
    const start = hoursAgo(6);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(1), everyMs: 13 * 60_000 }, incidents: { from: start, to: hoursAgo(1), everyMs: 29 * 60_000 } });
    const actions = [sim.addAction(), sim.addAction({ active: false }), sim.addAction({ active: false, cleared: true })];
    const workDir = workDirWith(devoPageConfig(sim, start));

    const validated = await cli(workDir, '--validate');
    expect(validated.text).toContain('The configuration is valid');
    expect(validated.code).toBe(0);
    const checked = await cli(workDir, '--check');
    expect(checked.code).toBe(0);
    for (const service of SERVICES) expect(checked.text).toMatch(new RegExp(`\\[ OK \\][^\\n]*${service}`));
    for (const path of ['/antigena', '/aianalyst/incidentevents', '/summarystatistics', '/status', '/modelbreaches']) expect(sim.requests.some((r) => r.path === path && r.status === 200)).toBe(true);

    const first = await pull(workDir);
    expect(first.summary.errors).toEqual([]);
    expect(key('pbid')(first.byTag(TAGS.modelbreaches))).toEqual(key('pbid')(sim.breachesBetween(start, Date.now()) as never));
    expect(key('id')(first.byTag(TAGS.aianalyst_incidentevents))).toEqual(key('id')(sim.incidentsBetween(start, Date.now()) as never));
    expect(key('codeid')(first.byTag(TAGS.antigena))).toEqual(key('codeid')(actions as never));
    expect(first.byTag(TAGS.summarystatistics)).toHaveLength(1);
    expect(first.byTag(TAGS.status)).toHaveLength(1);

    // The next pull: what is new arrives once, nothing else twice; one snapshot of each again.
    const breach = sim.addBreach(Date.now() - 30 * 60_000);
    const incident = sim.addIncident(Date.now() - 20 * 60_000);
    const action = sim.addAction();
    await new Promise((r) => setTimeout(r, 1100));
    const second = await pull(workDir);
    expect(second.summary.errors).toEqual([]);
    expect(second.byTag(TAGS.modelbreaches).map((b) => b['pbid'])).toEqual([breach.pbid]);
    expect(second.byTag(TAGS.aianalyst_incidentevents).map((i) => i['id'])).toEqual([incident.id]);
    expect(second.byTag(TAGS.antigena).map((a) => a['codeid'])).toEqual([action.codeid]);
    expect(second.byTag(TAGS.summarystatistics)).toHaveLength(1);
    expect(second.byTag(TAGS.status)).toHaveLength(1);
    // No event went anywhere but Devo's five tables.
    expect(rsyslog.lines().join('\n')).not.toMatch(/sig\.darktrace/);
  });

  it('an unknown service name is a config error that names the known services', async () => {
    const sim = await simulator();
    const workDir = workDirWith(devoPageConfig(sim, hoursAgo(1), ['modelbreaches', 'aianalyst_incidentevent']));
    const { code, text } = await cli(workDir, '--validate');
    expect(code).toBe(2);
    expect(text).toContain(
      'ConfigError 12: Unknown service <aianalyst_incidentevent>; the known services of inputs.darktrace are: antigena, aianalyst_incidentevents, summarystatistics, status, modelbreaches, aianalyst (inputs.darktrace.services.aianalyst_incidentevent)',
    );
  });
});
