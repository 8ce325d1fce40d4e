import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CollectorRuntime, runCollector, stateFileName, type Output } from '@collector/sdk/host';
import { CapturingOutput, devoOutputConfig, startRsyslog, type Rsyslog } from '@collector/testkit';
import { doctorCollector, doctorConfig, DOCTOR_REMEDIES, startDoctorApi } from './observability-vendor.js';

const HOUR = 3_600_000;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function capture() {
  const stream = new PassThrough();
  const sink = { text: '' };
  stream.on('data', (d) => (sink.text += d));
  return { stream, sink };
}

async function cli(argv: string[], config: unknown, workDir: string, outputs: Output[] = [new CapturingOutput()]) {
  const out = capture();
  const logs = capture();
  const code = await runCollector(doctorCollector, { argv, workDir, config, outputs, logStream: logs.stream, stdout: out.stream, handleSignals: false });
  return { code, text: out.sink.text, logs: logs.sink.text };
}

/** Every file under dir with its content: "touches no state" means this does not change. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const full = join(d, name);
      try {
        files[full] = readFileSync(full, 'utf8');
      } catch {
        walk(full);
      }
    }
  };
  walk(dir);
  return files;
}

async function doctor() {
  const api = await startDoctorApi({ events: [{ id: 'a', t: Date.now() - 30 * 60_000 }] });
  closers.push(api.close);
  return api;
}

const start = () => new Date(Date.now() - 2 * HOUR).toISOString();

describe('--check', () => {
  it('exits 0 when all is well, and pulls no events', async () => {
    const api = await doctor();
    const out = new CapturingOutput();
    const workDir = mkdtempSync(join(tmpdir(), 'check-ok-'));
    const { code, text, logs } = await cli(['--check'], doctorConfig(api, start()), workDir, [out]);
    expect(text).toContain('Checking doctor_collector 0.0.1');
    expect(text).toMatch(/\[ OK \] input doctor \(id 7\) service alerts: authenticated, smallest request answered \(\d+ ms\)/);
    expect(text).toMatch(/\[ OK \] input doctor \(id 7\) service audit: authenticated/);
    expect(text).toContain('[ OK ] output capture (capture): nothing to connect to');
    expect(text).toContain('All 3 checks passed');
    expect(code).toBe(0);
    // One setup (shared by the input) and one probe per service; nothing pulled, nothing delivered.
    expect(api.requests).toBe(3);
    expect(out.records).toHaveLength(0);
    expect(text + logs).not.toContain(api.token);
  });

  it('401: the wrong-credentials remedy, exit 1, the secret never printed', async () => {
    const api = await doctor();
    const config = doctorConfig({ url: api.url, token: 'wrong-token-4711' }, start());
    const { code, text, logs } = await cli(['--check'], config, mkdtempSync(join(tmpdir(), 'check-401-')));
    expect(code).toBe(1);
    expect(text).toContain('[FAIL] input doctor (id 7) service alerts: SetupError 100: Wrong credentials (HTTP 401)');
    expect(text).toContain(`       remedy: ${DOCTOR_REMEDIES.wrongToken}`);
    expect(text).toContain('2 of 3 checks failed');
    expect(text + logs).not.toContain('wrong-token-4711');
  });

  it('403: authentication passes, the probe fails with the role remedy from the input error declaration', async () => {
    const api = await doctor();
    api.knobs.forbidden = true;
    const { code, text } = await cli(['--check'], doctorConfig(api, start()), mkdtempSync(join(tmpdir(), 'check-403-')));
    expect(code).toBe(1);
    expect(text).toContain('[FAIL] input doctor (id 7) service alerts: PullError 301: No permission to read events (HTTP 403)');
    expect(text).toContain('[FAIL] input doctor (id 7) service audit: PullError 301');
    expect(text.split(`remedy: ${DOCTOR_REMEDIES.forbidden}`)).toHaveLength(3);
  });

  it('clock skew: API DATE ERROR → fix the clock', async () => {
    const api = await doctor();
    api.knobs.clockOffsetMs = 10 * 60_000;
    const { code, text } = await cli(['--check'], doctorConfig(api, start()), mkdtempSync(join(tmpdir(), 'check-skew-')));
    expect(code).toBe(1);
    expect(text).toContain('[FAIL] input doctor (id 7) service alerts: SetupError 102: API DATE ERROR: the vendor says the clock of this host is off');
    expect(text).toContain(`remedy: ${DOCTOR_REMEDIES.clock}`);
  });

  it('an invalid option is reported with its config path and the fix', async () => {
    const api = await doctor();
    const config = doctorConfig(api, start());
    config.inputs.doctor.services.audit.start_time = 'not a date';
    const { code, text } = await cli(['--check'], config, mkdtempSync(join(tmpdir(), 'check-bad-')));
    expect(code).toBe(1);
    expect(text).toMatch(/\[ OK \] input doctor \(id 7\) service alerts/);
    expect(text).toContain('[FAIL] input doctor (id 7) service audit: InitVariablesError 1: start_time is not as per the datetime_format (inputs.doctor.services.audit.start_time)');
    expect(text).toContain('remedy: Fix the value at inputs.doctor.services.audit.start_time in config.yaml');
  });

  it('touches no state: state files and budgets are the same before and after', async () => {
    const api = await doctor();
    const workDir = mkdtempSync(join(tmpdir(), 'check-state-'));
    const config = { ...doctorConfig(api, start()) } as ReturnType<typeof doctorConfig> & { inputs: { doctor: Record<string, unknown> } };
    config.inputs.doctor['requests_limits'] = [{ period: '1d', number_of_requests: 1000 }];
    const first = await new CollectorRuntime(doctorCollector, { workDir, config, outputs: [new CapturingOutput()], logStream: new PassThrough() }).runOnce();
    expect(first.ok).toBe(true);
    const before = snapshot(workDir);
    expect(Object.keys(before).some((f) => f.endsWith(stateFileName('doctor;7;__input__')))).toBe(true);
    const { code } = await cli(['--check'], config, workDir);
    expect(code).toBe(0);
    expect(snapshot(workDir)).toEqual(before);
    // And a fresh directory stays empty: no state is created for services that never ran.
    const fresh = mkdtempSync(join(tmpdir(), 'check-fresh-'));
    expect((await cli(['--check'], config, fresh)).code).toBe(0);
    expect(snapshot(fresh)).toEqual({});
  });

  it('a used-up daily budget is reported instead of spending more', async () => {
    const api = await doctor();
    const workDir = mkdtempSync(join(tmpdir(), 'check-budget-'));
    const config = doctorConfig(api, start()) as ReturnType<typeof doctorConfig> & { inputs: { doctor: Record<string, unknown> } };
    config.inputs.doctor['requests_limits'] = [{ period: '1d', number_of_requests: 2 }];
    mkdirSync(join(workDir, 'state'), { recursive: true });
    writeFileSync(join(workDir, 'state', stateFileName('doctor;7;__input__')), JSON.stringify({ 'requests:default': [Date.now() - HOUR, Date.now() - 60_000] }));
    const { code, text } = await cli(['--check'], config, workDir);
    expect(code).toBe(1);
    expect(text).toMatch(/\[FAIL\] input doctor \(id 7\): the request budget of pool "default" is used up; next request possible in 22 h \d+ min/);
    expect(api.requests).toBe(0);
  });
});

describe('--check on outputs: a TLS handshake with the client certificate', () => {
  let rsyslog: Rsyslog;
  beforeAll(async () => {
    rsyslog = await startRsyslog();
  });
  afterAll(async () => {
    await rsyslog?.stop();
  });

  it('passes against the receiver, fails with a remedy for a foreign certificate and a closed port', async () => {
    const api = await doctor();
    const good = devoOutputConfig(rsyslog, 'devo_1');
    const rogue = devoOutputConfig(rsyslog, 'devo_rogue');
    rogue['devo_rogue']!.config.cert = rsyslog.pki.rogueCert;
    rogue['devo_rogue']!.config.key = rsyslog.pki.rogueKey;
    const closed = devoOutputConfig({ port: 1, pki: rsyslog.pki }, 'devo_closed');
    const config = { ...doctorConfig(api, start()), outputs: { ...good, ...rogue, ...closed } };
    const workDir = mkdtempSync(join(tmpdir(), 'check-tls-'));
    const { code, text } = await cli(['--check'], config, workDir, []);
    expect(snapshot(workDir)).toEqual({}); // no state, no emergency persistence
    expect(text).toMatch(/\[ OK \] output devo_1 \(devo_platform\): TLSv1\.[23] handshake with the client certificate \(\d+ ms\)/);
    expect(text).toMatch(/\[FAIL\] output devo_rogue \(devo_platform\): OutputError 604: devo_rogue \(tls:\/\/127\.0\.0\.1:\d+\) rejected our client certificate \(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA\)\n {7}remedy: The receiver does not accept cert\/key .*Download the certificate/);
    expect(text).toMatch(/\[FAIL\] output devo_closed \(devo_platform\): OutputError 606: Connection to devo_closed \(tls:\/\/127\.0\.0\.1:1\) failed: ECONNREFUSED\n {7}remedy: Nothing accepts connections there: check address, port and that the receiver runs/);
    expect(code).toBe(1);
    // The check delivered nothing.
    expect(rsyslog.lines()).toHaveLength(0);
  });
});
