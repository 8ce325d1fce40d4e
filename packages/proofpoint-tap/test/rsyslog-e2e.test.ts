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
    // Each line is the record's text as Proofpoint sent it (the simulator writes JSON.stringify) with the pulling id appended.
    const sent = new Map(SERVICES.flatMap((s) => sim.events(s)).map((e) => [String(e['id']), JSON.stringify(e)]));
    for (const line of first.received) {
      expect(line.raw.startsWith('<14>')).toBe(true);
      expect(line.event['@devo_pulling_id']).toMatch(/^\d{13}$/);
      expect(line.message).toBe(`${sent.get(String(line.event['id']))!.slice(0, -1)},"@devo_pulling_id":"${String(line.event['@devo_pulling_id'])}"}`);
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

  it('sends a record as the text Proofpoint sent (escapes, number forms kept; a pretty-printed one on one line); its identity key still dedups', async () => {
    const sim = await simulator();
    const record = (id: string, extra: string) => `{"GUID":"g-1","id":"${id}","recipient":["a@x.com"],"messageTime":"2026-12-06T10:00:00.000Z","subject":"Caf\\u00e9 \\u2028","spamScore":1.0,"threatsInfoMap":[{"threatID":"t1","threatStatus":"active"}]${extra}}`;
    const pretty = `{\n  "GUID": "g-2",\n  "id": "p-1",\n  "recipient": [\n    "b@x.com"\n  ],\n  "messageTime": "2026-12-06T10:00:01.000Z",\n  "threatsInfoMap": []\n}`;
    const page = `{"queryEndTime":"2026-12-06T10:00:00Z","messagesBlocked":[${record('r-1', '')}, ${pretty},${record('r-1', ',"again":true')},null]}`;
    sim.faults.inject({ kind: 'answer', status: 200, body: page });
    const cfg = config(sim, { services: { messagesBlocked: {} }, common: { start_time_in_utc_format: isoAgo(10 * 60_000) } });
    const { summary, received } = await runOnce(workDir(), cfg, rsyslog);
    expect(summary.errors.join(' | ')).toBe('');
    expect(summary.services[0]!.duplicates).toBe(1);
    const id = String(received[0]?.event['@devo_pulling_id']);
    expect(received.map((l) => [l.tag, l.message])).toEqual([
      ['mail.proofpoint.tapsiem_v2.messagesblocked', `${record('r-1', '').slice(0, -1)},"@devo_pulling_id":"${id}"}`],
      ['mail.proofpoint.tapsiem_v2.messagesblocked', `{"GUID":"g-2","id":"p-1","recipient":["b@x.com"],"messageTime":"2026-12-06T10:00:01.000Z","threatsInfoMap":[],"@devo_pulling_id":"${id}"}`],
    ]);
  });
});
