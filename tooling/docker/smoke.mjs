#!/usr/bin/env node
// Smoke run of the built collector images (called by build-images.sh; needs `pnpm --filter @collector/demo... build`).
//
//   node tooling/docker/smoke.mjs lark [darktrace ...]
//
// Starts each app's simulator and a TLS syslog receiver that requires a client certificate (rsyslogd when
// installed, else the testkit's Node receiver), lays out certs/ config/ state/ as the manuals' `docker run`
// does, and then:
//   1. `podman run --read-only ... --once` of every image: every expected event must land at the receiver,
//      tag by tag (a read-only root filesystem, as deploy/kubernetes runs them);
//   2. the first image as a daemon: the image's HEALTHCHECK must pass, and `podman stop` (SIGTERM) must end
//      it gracefully with exit code 0, well before the stop timeout.
import { execFile } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { scenarios } from '../demo/dist/index.js';
import { generatePki, startSyslogReceiver, vendor as registered } from '../testkit/dist/index.js';

const run = promisify(execFile);
const podman = (args, opts = {}) => run('podman', args, { maxBuffer: 64 * 1024 * 1024, ...opts });
const UID = 1000; // the image's user (Dockerfile: USER 1000:1000)

const apps = process.argv.slice(2);
const selected = scenarios.filter((s) => apps.includes(s.vendor));
if (selected.length === 0) {
  console.log(`smoke: no demo scenario for ${apps.join(', ')}; nothing to run`);
  process.exit(0);
}
const imageOf = (vendor) => `localhost/devo-collector-${vendor}:latest`;

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what, check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'image-smoke-'));
const pki = await generatePki(join(dir, 'pki'));
const receiver = await startSyslogReceiver(pki, join(dir, 'receiver'));
let failed = false;
const fail = (message) => {
  failed = true;
  console.error(`smoke: FAILED: ${message}`);
};
const healthPort = await freePort();

/** The on-premise layout of the manuals, <dir>/devo-collectors/<product>/{certs,config,state}, owned by uid 1000. */
function layout(vendor, inputs) {
  const home = join(dir, 'devo-collectors', vendor);
  for (const sub of ['certs', 'config', 'state']) mkdirSync(join(home, sub), { recursive: true });
  copyFileSync(pki.caCert, join(home, 'certs', 'chain.crt'));
  copyFileSync(pki.clientCert, join(home, 'certs', 'collector.crt'));
  copyFileSync(pki.clientKey, join(home, 'certs', 'collector.key'));
  const config = (once) => ({
    globals: {
      name: `smoke-${vendor}`,
      persistence: { type: 'filesystem', config: { directory_name: 'state' } },
      http_server: { enabled: !once, address: '127.0.0.1', port: healthPort },
    },
    // Relative certificate names resolve in /devo-collector/certs.
    outputs: { devo_1: { type: 'devo_platform', config: { address: receiver.host, port: receiver.port, type: 'SSL', chain: 'chain.crt', cert: 'collector.crt', key: 'collector.key' } } },
    inputs,
  });
  writeFileSync(join(home, 'config', 'config.yaml'), JSON.stringify(config(true), null, 2)); // JSON is YAML
  writeFileSync(join(home, 'config', 'daemon.yaml'), JSON.stringify(config(false), null, 2));
  // The image runs as uid 1000: it must read certs/ and config/ and write state/.
  for (const sub of ['certs', 'config', 'state']) {
    chownSync(join(home, sub), UID, UID);
    for (const f of readdirSync(join(home, sub))) chownSync(join(home, sub, f), UID, UID);
  }
  const volumes = ['certs', 'config', 'state'].flatMap((sub) => ['--volume', `${join(home, sub)}:/devo-collector/${sub}`]);
  return { home, volumes };
}

const started = [];
try {
  // 1. Every image, --once: pull until caught up, deliver, save, exit 0; every event lands, tag by tag.
  for (const scenario of selected) {
    const run = await scenario.start(0.2);
    started.push(run);
    const image = imageOf(scenario.vendor);
    const { home, volumes } = layout(scenario.vendor, run.inputs);
    const t0 = Date.now();
    try {
      // Read-only root filesystem, as deploy/kubernetes runs it: only state/ (and /tmp) are written.
      await podman(['run', '--rm', '--read-only', '--tmpfs', '/tmp', '--network', 'host', ...volumes, '--env', 'CONFIG_FILE=config.yaml', image, '--once'], { timeout: 120_000 });
    } catch (error) {
      fail(`${image} --once exited ${error.code}: ${String(error.stdout ?? '').split('\n').slice(-5).join('\n')}${error.stderr ?? ''}`);
    }
    const expectedTotal = Object.values(run.expected).reduce((a, b) => a + b, 0);
    const arrived = () => Object.keys(run.expected).reduce((sum, tag) => sum + (receiver.countsByTag().get(tag) ?? 0), 0);
    await waitFor('the events at the receiver', () => arrived() >= expectedTotal, 10_000).catch(() => undefined);
    const rows = Object.entries(run.expected).map(([tag, expected]) => {
      const got = receiver.countsByTag().get(tag) ?? 0;
      if (got !== expected) fail(`${image}: ${tag}: expected ${expected}, arrived ${got}`);
      return `${tag}: expected ${expected}, arrived ${got}`;
    });
    if (registered(scenario.vendor).kind === 'pull' && readdirSync(join(home, 'state')).length === 0) fail(`${image}: no state file in the state volume`);
    console.log(`smoke: ${image} --once (${receiver.kind} receiver, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    for (const row of rows) console.log(`smoke:   ${row}`);
  }

  // 2. The first image as a daemon: the Node it runs on, health check, then SIGTERM.
  const vendor = selected[0].vendor;
  const image = imageOf(vendor);
  const { stdout: nodeVersion } = await podman(['run', '--rm', '--entrypoint', 'node', image, '--version']);
  console.log(`smoke: ${image}: node ${nodeVersion.trim()}`);
  if (!nodeVersion.startsWith('v24.')) fail(`${image} runs node ${nodeVersion.trim()}, not Node 24`);
  const { volumes } = layout(vendor, started[0].inputs);
  const name = `smoke-${vendor}-${process.pid}`;
  await podman(['run', '--detach', '--name', name, '--network', 'host', ...volumes, '--env', 'CONFIG_FILE=daemon.yaml', '--env', `HEALTH_PORT=${healthPort}`, image]);
  try {
    // podman runs HEALTHCHECKs from systemd timers; without systemd, run the image's check on demand.
    await waitFor('a passing HEALTHCHECK', () => podman(['healthcheck', 'run', name]).then(() => true, () => false), 30_000);
    console.log(`smoke: ${image}: the image HEALTHCHECK (node probing /health) passes`);
    const t1 = Date.now();
    await podman(['stop', '--time', '30', name]);
    const seconds = (Date.now() - t1) / 1000;
    const { stdout } = await podman(['inspect', name, '--format', '{{.State.ExitCode}}']);
    const { stdout: logs } = await podman(['logs', name]);
    console.log(`smoke: ${image}: podman stop (SIGTERM) -> exit code ${stdout.trim()} after ${seconds.toFixed(1)} s`);
    if (stdout.trim() !== '0') fail(`exit code ${stdout.trim()} after SIGTERM`);
    if (seconds > 20) fail(`SIGTERM took ${seconds} s: the process did not stop gracefully`);
    if (!logs.includes('Received SIGTERM')) fail('the collector did not log the SIGTERM it received');
  } finally {
    await podman(['rm', '--force', name]).catch(() => undefined);
  }
} catch (error) {
  fail(`${error.message}${error.stderr ? `\n${error.stderr}` : ''}`);
} finally {
  await receiver.close();
  for (const run of started) await run.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(failed ? 'smoke: FAILED' : `smoke: OK (${selected.map((s) => s.vendor).join(', ')})`);
process.exit(failed ? 1 : 0);
