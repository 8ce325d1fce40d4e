import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { CollectorRuntime, stateFileName } from '@collector/sdk/host';
import { CapturingOutput, devoOutputConfig, parseReceivedEvents, waitUntil } from '@collector/testkit';
import { useRsyslog } from '@collector/testkit/vitest';
import { proofpointThreatForensics, proofpointThreatSummary, type ProofpointSimulator } from '@collector/simulators';
import { proofpointTapCollector } from '../src/index.js';
import { closeAll, config, HOUR, isoAgo, runOnce, simulator, THREATS_TAG, workDir } from './helpers.js';

const rsyslog = useRsyslog();
afterEach(closeAll);

const withoutPullingId = (e: Record<string, unknown>) => {
  const { ['@devo_pulling_id']: _id, ...rest } = e;
  return rest;
};
const summaryRequests = (sim: ProofpointSimulator) => sim.requests.filter((r) => r.path.startsWith('/v2/threat/summary/'));
const forensicsRequests = (sim: ProofpointSimulator) => sim.requests.filter((r) => r.path === '/v2/forensics');
const isSummary = (e: Record<string, unknown>) => !('forensics' in e);

/** Messages (2 recipients each: one threat seen in two records) and clicks over the last `hours`. */
function seed(sim: ProofpointSimulator, hours: number, seedBase = 1) {
  const from = Date.now() - hours * HOUR;
  const to = Date.now() - 5 * 60_000;
  sim.generate({ service: 'messagesDelivered', count: 5, from, to, recipientsPerMessage: 2, seed: seedBase });
  sim.generate({ service: 'messagesBlocked', count: 3, from, to, seed: seedBase + 1 });
  sim.generate({ service: 'clicksPermitted', count: 4, from, to, seed: seedBase + 2 });
}

describe('proofpoint_tap threats → Devo (real rsyslog TLS receiver)', () => {
  it('summarises each threat once, again only when its status changes; no forensics unless switched on', async () => {
    const sim = await simulator();
    seed(sim, 3);
    const threats = sim.threats();
    expect(threats).toHaveLength(5 + 3 + 4);
    const dir = workDir();
    const start = isoAgo(3 * HOUR + 60_000);
    const first = await runOnce(dir, config(sim, { services: { threats: { start_time_in_utc_format: start } } }), rsyslog);
    expect(first.summary.errors.join(' | ')).toBe('');
    expect(first.received.every((l) => l.tag === THREATS_TAG)).toBe(true);
    expect(first.received.map((l) => l.event['id']).sort()).toEqual(threats.map((t) => t.id).sort());
    // Exactly the Threat API's answer plus @devo_pulling_id.
    for (const line of first.received) expect(withoutPullingId(line.event)).toEqual(proofpointThreatSummary(threats.find((t) => t.id === line.event['id'])!));
    // Each threat was asked about once although the two records of a message both carry it.
    expect(summaryRequests(sim)).toHaveLength(threats.length);
    expect(forensicsRequests(sim)).toHaveLength(0);
    // The SIEM side reads /v2/siem/all, in one-hour windows.
    expect(sim.requests.filter((r) => r.path.startsWith('/v2/siem/')).every((r) => r.path === '/v2/siem/all')).toBe(true);

    // From now on re-check every second, so each run asks about every threat again and must still send nothing.
    const cfg = config(sim, { services: { threats: { start_time_in_utc_format: start, threat_status_recheck_in_seconds: 1 } } });
    await new Promise((r) => setTimeout(r, 1100));
    const asked = summaryRequests(sim).length;
    const second = await runOnce(dir, cfg, rsyslog);
    expect(second.summary.errors.join(' | ')).toBe('');
    expect(second.received).toHaveLength(0);
    expect(summaryRequests(sim).length - asked).toBe(threats.length);

    // Proofpoint re-classifies two threats: one of an old message (outside every look-back), one of a click.
    const oldest = [...threats].sort((a, b) => Date.parse(a.identifiedAt) - Date.parse(b.identifiedAt))[0]!;
    const click = threats.find((t) => t.campaignId !== null && t.id !== oldest.id)!;
    sim.setThreatStatus(oldest.id, 'cleared');
    sim.setThreatStatus(click.id, 'falsePositive');
    await new Promise((r) => setTimeout(r, 1100));
    const third = await runOnce(dir, cfg, rsyslog);
    expect(third.summary.errors.join(' | ')).toBe('');
    expect(third.received.map((l) => [l.event['id'], l.event['status']]).sort()).toEqual(
      [
        [oldest.id, 'cleared'],
        [click.id, 'falsePositive'],
      ].sort(),
    );
    expect(third.logs).toContain(`Threat ${oldest.id} changed status: active -> cleared`);

    await new Promise((r) => setTimeout(r, 1100));
    const fourth = await runOnce(dir, cfg, rsyslog);
    expect(fourth.received).toHaveLength(0);
    expect(forensicsRequests(sim)).toHaveLength(0);
  }, 60_000);
});

describe('proofpoint_tap threats: forensics and budgets (real rsyslog TLS receiver)', () => {
  it('with include_forensics, each summary is followed by its forensics, flattened, once per status', async () => {
    const sim = await simulator();
    seed(sim, 2, 20);
    const threats = sim.threats();
    const dir = workDir();
    // One start time for every run: changing it restarts the persistence.
    const start = isoAgo(2 * HOUR + 60_000);
    const cfg = config(sim, { services: { threats: { start_time_in_utc_format: start, include_forensics: true } } });
    const { received, summary } = await runOnce(dir, cfg, rsyslog);
    expect(summary.errors.join(' | ')).toBe('');
    const events = received.filter((l) => l.tag === THREATS_TAG).map((l) => l.event);
    // One forensics request per threat, by threat ID, with the campaign's forensics.
    const requests = forensicsRequests(sim);
    expect(requests).toHaveLength(threats.length);
    for (const r of requests) expect(new URLSearchParams(r.query).get('includecampaignforensics')).toBe('true');
    expect(requests.map((r) => new URLSearchParams(r.query).get('threatId')).sort()).toEqual(threats.map((t) => t.id).sort());
    expect(events.filter(isSummary).map((e) => e['id']).sort()).toEqual(threats.map((t) => t.id).sort());
    // Flattened: one event per evidence of every report (the campaign's too), with the report's keys.
    const expected = threats.flatMap((t) =>
      (proofpointThreatForensics(t, true, 0)['reports'] as Record<string, unknown>[]).flatMap((report) => {
        const { forensics, ...rest } = report;
        return (forensics as unknown[]).map((evidence): Record<string, unknown> => ({ threatId: t.id, ...rest, forensics: evidence }));
      }),
    );
    expect(expected.some((e) => e['scope'] === 'CAMPAIGN')).toBe(true);
    expect(events.filter((e) => !isSummary(e)).map(withoutPullingId)).toEqual(expect.arrayContaining(expected));
    expect(events.filter((e) => !isSummary(e))).toHaveLength(expected.length);
    // The persisted budget counts SIEM requests in the shared pool and forensics in theirs; summaries in none.
    const budget = JSON.parse(readFileSync(join(dir, 'state', stateFileName('proofpoint_tap;123456;__input__')), 'utf8'));
    expect(budget['requests:default']).toHaveLength(sim.requests.filter((r) => r.path === '/v2/siem/all').length);
    expect(budget['requests:forensics']).toHaveLength(threats.length);
    expect(Object.keys(budget).sort()).toEqual(['requests:default', 'requests:forensics']);

    // A status change re-sends the summary and the forensics of that threat only (one more forensics request).
    const changed = threats[0]!;
    sim.setThreatStatus(changed.id, 'falsePositive');
    await new Promise((r) => setTimeout(r, 1100));
    const again = await runOnce(dir, config(sim, { services: { threats: { start_time_in_utc_format: start, include_forensics: true, threat_status_recheck_in_seconds: 1 } } }), rsyslog);
    expect(again.summary.errors.join(' | ')).toBe('');
    const resent = again.received.filter((l) => l.tag === THREATS_TAG).map((l) => l.event);
    expect(resent.filter(isSummary).map((e) => [e['id'], e['status']])).toEqual([[changed.id, 'falsePositive']]);
    const rows = resent.filter((e) => !isSummary(e));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((e) => e['threatId'] === changed.id && e['threatStatus'] === 'falsePositive')).toBe(true);
    expect(forensicsRequests(sim)).toHaveLength(threats.length + 1);
  }, 60_000);

  it('a spent forensics pool delays forensics, never a summary; later pulls fetch them inside the budget', async () => {
    // Proofpoint's 50 a day, scaled down to 2 per rolling 2 seconds in the collector; Proofpoint's window is
    // 1.9 s because at this scale the time a request takes to arrive is a sizeable part of it (as in
    // budget.test.ts).
    const sim = await simulator({ forensicsQuota: 2, quotaWindowMs: 1900 });
    seed(sim, 2, 40);
    const threats = sim.threats();
    const dir = workDir();
    const cfg = config(sim, {
      services: { threats: { start_time_in_utc_format: isoAgo(2 * HOUR + 60_000), include_forensics: true } },
      input: { requests_pools: { forensics: [{ period: '2s', number_of_requests: 2 }] } },
    });
    const first = await runOnce(dir, cfg, rsyslog);
    expect(first.summary.errors.join(' | ')).toBe('');
    // Every summary at once; forensics only as far as the pool allows, the rest said to wait.
    expect(first.received.map((l) => l.event).filter(isSummary)).toHaveLength(threats.length);
    expect(forensicsRequests(sim).length).toBeLessThan(threats.length);
    expect(first.logs).toMatch(/Forensics of \d+ threat\(s\) wait for the forensics budget \(pool <forensics>, 2 requests per 2 s\)/);
    expect(summaryRequests(sim).length).toBe(threats.length);

    // Later pulls fetch the waiting forensics as the pool frees up, each threat's once.
    const forensicsEvents = first.received.map((l) => l.event).filter((e) => !isSummary(e));
    for (let i = 0; i < 12 && new Set(forensicsRequests(sim).map((r) => r.query)).size < threats.length; i++) {
      await new Promise((r) => setTimeout(r, 2100));
      const next = await runOnce(dir, cfg, rsyslog);
      expect(next.summary.errors.join(' | ')).toBe('');
      expect(next.received.map((l) => l.event).filter(isSummary)).toHaveLength(0);
      forensicsEvents.push(...next.received.map((l) => l.event).filter((e) => !isSummary(e)));
    }
    expect(forensicsRequests(sim)).toHaveLength(threats.length);
    expect(new Set(forensicsEvents.map((e) => e['threatId']))).toEqual(new Set(threats.map((t) => t.id)));
    expect(sim.throttled).toBe(0);
    expect(sim.maxQuotaUsage('forensics')).toBeLessThanOrEqual(2);
  }, 60_000);

  it('a threat Proofpoint does not know yet (404) is asked again later, then delivered once', async () => {
    const sim = await simulator();
    seed(sim, 1, 60);
    const threats = sim.threats();
    const dir = workDir();
    const cfg = config(sim, { services: { threats: { start_time_in_utc_format: isoAgo(HOUR + 60_000) } } });
    // The Threat API does not know one threat yet (a SIEM record can name a threat before its summary exists).
    const hidden = threats[1]!;
    sim.setThreatKnown(hidden.id, false);
    const first = await runOnce(dir, cfg);
    expect(first.summary.errors.join(' | ')).toBe('');
    expect(first.logs).toContain(`Proofpoint does not know threat ${hidden.id} yet (HTTP 404 from the Threat API)`);
    expect(first.out.events(THREATS_TAG).map((e) => e['id']).sort()).toEqual(threats.filter((t) => t !== hidden).map((t) => t.id).sort());
    sim.setThreatKnown(hidden.id, true);
    const second = await runOnce(dir, cfg);
    expect(second.out.events(THREATS_TAG).map((e) => e['id'])).toEqual([hidden.id]);
    expect((await runOnce(dir, cfg)).out.records).toHaveLength(0);
  });
});

describe('proofpoint_tap threats: the daemon', () => {
  it('a re-classification while running is sent once, with the new status; nothing else is sent again', async () => {
    const sim = await simulator();
    seed(sim, 1, 100);
    const threats = sim.threats();
    const out = new CapturingOutput();
    const runtime = new CollectorRuntime(proofpointTapCollector, {
      workDir: workDir(),
      config: config(sim, { services: { threats: { start_time_in_utc_format: isoAgo(HOUR + 60_000), request_period_in_seconds: 1, threat_status_recheck_in_seconds: 1 } } }),
      outputs: [out],
      logStream: new PassThrough(),
    });
    const running = runtime.run();
    const changed = threats[2]!;
    try {
      await waitUntil(() => out.events(THREATS_TAG).length >= threats.length);
      sim.setThreatStatus(changed.id, 'cleared');
      await waitUntil(() => out.events(THREATS_TAG).length > threats.length);
      // A few more pulls and re-checks: nothing more.
      const cycles = runtime.totals()[0]!.cycles;
      await waitUntil(() => runtime.totals()[0]!.cycles >= cycles + 3, { timeoutMs: 15_000 });
    } finally {
      await runtime.stop();
      await running;
    }
    const sent = out.events(THREATS_TAG).map((e) => `${String(e['id'])}:${String(e['status'])}`);
    expect(sent.sort()).toEqual([...threats.map((t) => `${t.id}:active`), `${changed.id}:cleared`].sort());
    // Every regular pull costs one SIEM request; the summaries asked again are not in any pool.
    const metrics = await runtime.metrics.text();
    expect(metrics).toMatch(/collector_request_budget_remaining\{[^}]*pool="default"[^}]*\} 17\d\d/);
  }, 40_000);
});

describe('proofpoint_tap threats: kill -9', () => {
  const child = fileURLToPath(new URL('./fixtures/collector-child.ts', import.meta.url));
  const sources = fileURLToPath(new URL('./fixtures/workspace-sources.mjs', import.meta.url));

  function start(dir: string, args: string[], killWhen?: () => boolean): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return new Promise((resolve) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', '--import', sources, child, ...args], { env: { ...process.env, WORK_DIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
      proc.stderr.resume();
      const poll = killWhen && setInterval(() => killWhen() && proc.kill('SIGKILL'), 25);
      proc.on('exit', (code, signal) => {
        if (poll) clearInterval(poll);
        resolve({ code, signal });
      });
    });
  }

  it('loses no threat: killed after some summaries reached Devo, a restart delivers the rest (repeats only from the batch in flight)', async () => {
    // Slow summaries: a window's threats take a while, so the kill lands in the middle of the pull.
    const sim = await simulator({ threatLatencyMs: 60 });
    seed(sim, 4, 80);
    sim.generate({ service: 'clicksBlocked', count: 12, from: Date.now() - 4 * HOUR, to: Date.now() - 5 * 60_000, seed: 90 });
    const threats = sim.threats();
    const dir = workDir();
    mkdirSync(join(dir, 'config'));
    const cfg = { ...config(sim, { services: { threats: { start_time_in_utc_format: isoAgo(4 * HOUR + 60_000) } } }), outputs: devoOutputConfig(rsyslog) };
    // YAML is a superset of JSON.
    writeFileSync(join(dir, 'config', 'config.yaml'), JSON.stringify(cfg));
    const from = rsyslog.lines().length;
    const received = () => parseReceivedEvents(rsyslog.lines().slice(from)).filter((l) => l.tag === THREATS_TAG);

    const killed = await start(dir, ['--once'], () => received().length >= 3);
    expect(killed.signal).toBe('SIGKILL');
    const before = received().length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(threats.length);

    const restarted = await start(dir, ['--once']);
    expect(restarted.code).toBe(0);
    const ids = received().map((l) => String(l.event['id']));
    await rsyslog.waitForLines(from + ids.length);
    expect(new Set(ids)).toEqual(new Set(threats.map((t) => t.id)));
    // Nothing twice but what was delivered and not yet committed when the process died.
    expect(ids.length - threats.length).toBeLessThanOrEqual(before);
    for (const id of new Set(ids)) expect(ids.filter((x) => x === id).length).toBeLessThanOrEqual(2);
  }, 90_000);
});
