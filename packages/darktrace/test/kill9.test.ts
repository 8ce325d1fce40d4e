import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appMain, devoOutputConfig, ensureBuilt, parseReceivedEvents, startRsyslog, waitUntil, type Rsyslog } from '@collector/testkit';
import { closeSimulators, credentialsFor, darktraceConfig, hoursAgo, newWorkDir, simulator, TAGS, utc } from './helpers.js';

const main = appMain('darktrace');

let rsyslog: Rsyslog;
beforeAll(async () => {
  ensureBuilt(['packages/sdk', 'packages/darktrace', 'apps/darktrace']);
  rsyslog = await startRsyslog();
}, 180_000);
afterAll(async () => {
  await rsyslog?.stop();
});
afterEach(closeSimulators);

/** The darktrace-collector executable in `dir`; `killAfter` slot lines on stdout, it gets SIGKILL. */
function run(dir: string, args: string[], killAfter?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let slots = 0;
    child.stdout.on('data', (d: Buffer) => {
      slots += d.toString().match(/Number of events received for time slot/g)?.length ?? 0;
      if (killAfter !== undefined && slots >= killAfter) child.kill('SIGKILL');
    });
    child.stderr.resume();
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('kill -9 of the executable in the middle of a pull', () => {
  it('loses no breach, incident event or action: the restart resumes from the last acknowledged slot', async () => {
    const start = hoursAgo(30);
    const sim = await simulator({ breaches: { from: start, to: hoursAgo(1), everyMs: 3 * 60_000 }, incidents: { from: start, to: hoursAgo(1), everyMs: 13 * 60_000 } });
    for (let i = 0; i < 12; i++) sim.addAction(i % 3 === 0 ? { active: false } : {});
    // A busy appliance: every data request takes a while, so the kill lands between slots of a long pull.
    sim.faults.inject({ kind: 'slow', delayMs: 150, on: '/modelbreaches', times: 1000 });
    const services = Object.fromEntries(['antigena', 'aianalyst_incidentevents', 'modelbreaches'].map((s) => [s, { start_time_in_utc_format: utc(start) }]));
    const dir = newWorkDir();
    mkdirSync(join(dir, 'config'));
    const config = { ...darktraceConfig(credentialsFor(sim), services), outputs: devoOutputConfig(rsyslog) };
    writeFileSync(join(dir, 'config', 'config.yaml'), JSON.stringify(config, null, 2));
    const from = rsyslog.lines().length;
    const received = (tag: string) => parseReceivedEvents(rsyslog.lines().slice(from)).filter((l) => l.tag === tag).map((l) => l.event);

    const killed = await run(dir, [], 40);
    expect(killed.signal).toBe('SIGKILL');
    const truth: Record<string, Set<string>> = {
      [TAGS.modelbreaches]: new Set(sim.breachesBetween(start, Date.now()).map((b) => String(b.pbid))),
      [TAGS.aianalyst_incidentevents]: new Set(sim.incidentsBetween(start, Date.now()).map((i) => i.id)),
      [TAGS.antigena]: new Set(sim.actions().map((a) => String(a.codeid))),
    };
    const beforeRestart = received(TAGS.modelbreaches).length;
    expect(beforeRestart).toBeLessThan(truth[TAGS.modelbreaches]!.size); // killed mid-pull

    const restarted = await run(dir, ['--once']);
    expect(restarted.code).toBe(0);
    const ids = { [TAGS.modelbreaches]: 'pbid', [TAGS.aianalyst_incidentevents]: 'id', [TAGS.antigena]: 'codeid' } as const;
    const arrived = (tag: keyof typeof ids) => new Set(received(tag).map((e) => String(e[ids[tag]])));
    await waitUntil(() => Object.keys(ids).every((tag) => arrived(tag as keyof typeof ids).size >= truth[tag]!.size), { timeoutMs: 10_000, what: 'every event at rsyslog' });
    for (const tag of Object.keys(ids) as (keyof typeof ids)[]) expect(arrived(tag)).toEqual(truth[tag]);
    // Re-sent after the kill: at most what was in flight since the last saved keys, never a whole history.
    const duplicates = received(TAGS.modelbreaches).length - truth[TAGS.modelbreaches]!.size;
    expect(duplicates).toBeLessThan(beforeRestart);
  }, 120_000);
});
