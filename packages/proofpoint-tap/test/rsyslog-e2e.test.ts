import { afterEach, describe, expect, it } from 'vitest';
import { useRsyslog } from '@collector/testkit/vitest';
import { closeAll, config, HOUR, isoAgo, runOnce, SERVICES, simulator, stateText, workDir } from './helpers.js';

const rsyslog = useRsyslog();
afterEach(closeAll);

describe('proofpoint_tap → Devo (real rsyslog TLS receiver)', () => {
  it('every record of the four services arrives once, per recipient, with its tag; a restart adds only new records', async () => {
    const sim = await simulator();
    for (const [i, service] of SERVICES.entries()) sim.generate({ service, count: 15, from: Date.now() - 3 * HOUR, to: Date.now() - 5 * 60_000, recipientsPerMessage: 3, seed: 40 + i });
    const dir = workDir();
    const cfg = config(sim, { common: { start_time_in_utc_format: isoAgo(3 * HOUR + 60_000) } });
    const first = await runOnce(dir, cfg, rsyslog);
    expect(first.summary.errors.join(' | ')).toBe('');
    const expected = SERVICES.reduce((n, s) => n + sim.events(s).length, 0);
    expect(expected).toBe(15 * 3 * 2 + 15 * 2);
    expect(first.received).toHaveLength(expected);
    for (const service of SERVICES) {
      const tag = `mail.proofpoint.tapsiem_v2.${service.toLowerCase()}`;
      const ids = first.received.filter((l) => l.tag === tag).map((l) => String(l.event['id'])).sort();
      expect(ids).toEqual(sim.events(service).map((e) => String(e['id'])).sort());
    }
    for (const line of first.received) {
      expect(line.raw.startsWith('<14>')).toBe(true);
      expect(line.event['@devo_pulling_id']).toMatch(/^\d{13}$/);
    }
    // Late-indexed and new records, then a restart: only they arrive; the look-back repeats are dropped.
    sim.generate({ service: 'messagesDelivered', count: 2, from: Date.now() - 150_000, to: Date.now() - 70_000, recipientsPerMessage: 2, seed: 77 });
    const second = await runOnce(dir, cfg, rsyslog);
    expect(second.summary.errors.join(' | ')).toBe('');
    expect(second.received).toHaveLength(4);
    expect(second.summary.services.reduce((n, s) => n + s.duplicates, 0)).toBeGreaterThan(0);
    // No secret on the wire, in the logs or in the state.
    const wire = rsyslog.lines().join('\n');
    for (const text of [wire, first.logs, second.logs, stateText(dir)]) {
      expect(text).not.toContain(sim.secret);
      expect(text).not.toContain(Buffer.from(`${sim.principal}:${sim.secret}`).toString('base64'));
    }
  }, 40_000);
});
