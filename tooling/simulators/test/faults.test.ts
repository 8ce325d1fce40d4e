import { afterEach, describe, expect, it } from 'vitest';
import { startDarktraceSimulator, startLarkSimulator, startO365Simulator, startProofpointSimulator } from '@collector/simulators';
import { FaultSchedule } from '../src/faults.js';

// The schedule behind every simulator's `faults.inject`: which request gets which fault.
describe('FaultSchedule', () => {
  const schedule = () => new FaultSchedule<{ kind: 'status'; status: number } | { kind: 'garbage' } | { kind: 'expire-tokens' }, 'data' | 'token'>({ kinds: ['status', 'garbage', 'expire-tokens'], endpoint: 'data' });
  const serve = (s: ReturnType<typeof schedule>, n: number, endpoint = 'data') => Array.from({ length: n }, () => s.take(endpoint)?.kind ?? '-');

  it('hits `times` requests after `after` normal ones, on its endpoint only', () => {
    const s = schedule();
    s.inject({ kind: 'status', status: 500, after: 2, times: 2 });
    s.inject({ kind: 'garbage', on: 'token' });
    expect(serve(s, 6)).toEqual(['-', '-', 'status', 'status', '-', '-']);
    expect(serve(s, 2, 'token')).toEqual(['garbage', '-']);
  });

  it('queues faults due on the same request behind each other; `after` counts every request', () => {
    const s = schedule();
    s.inject({ kind: 'status', status: 500 });
    s.inject({ kind: 'garbage' });
    s.inject({ kind: 'status', status: 503, after: 1 });
    expect(serve(s, 4)).toEqual(['status', 'garbage', 'status', '-']);
  });

  it('expires tokens once whatever `times` says; clear() forgets what is pending', () => {
    const s = schedule();
    s.inject({ kind: 'expire-tokens', times: 5 });
    expect(serve(s, 2)).toEqual(['expire-tokens', '-']);
    s.inject({ kind: 'garbage', times: 3 });
    s.clear();
    expect(serve(s, 1)).toEqual(['-']);
  });

  it('refuses a kind the simulator does not have, naming the ones it has', () => {
    const s = new FaultSchedule<{ kind: 'status'; status: number } | { kind: 'drop' }, 'data'>({ kinds: ['status'] });
    expect(s.supports('drop')).toBe(false);
    expect(() => s.inject({ kind: 'drop' })).toThrow('This simulator has no fault of kind drop; it has status');
  });
});

describe('the four simulators speak it', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  it("a 500 answers with each vendor's own error body", async () => {
    const lark = await startLarkSimulator({ appId: 'a', appSecret: 's' });
    const darktrace = await startDarktraceSimulator({});
    const o365 = await startO365Simulator({ tenantId: 't', clientId: 'c', clientSecret: 's' });
    const proofpoint = await startProofpointSimulator({});
    closers.push(lark.close, darktrace.close, o365.close, proofpoint.close);
    lark.faults.inject({ kind: 'status', status: 500, on: 'token' });
    o365.faults.inject({ kind: 'status', status: 500, on: 'token' });
    darktrace.faults.inject({ kind: 'status', status: 500, on: '/modelbreaches' });
    proofpoint.faults.inject({ kind: 'status', status: 500 });
    const basic = `Basic ${Buffer.from('pp-principal:pp-secret').toString('base64')}`;
    const answers = await Promise.all([
      fetch(`${lark.url}/open-apis/auth/v3/tenant_access_token/internal`, { method: 'POST', body: '{}' }),
      fetch(`${darktrace.url}/modelbreaches`),
      fetch(`${o365.url}/t/oauth2/v2.0/token`, { method: 'POST', body: '' }),
      fetch(`${proofpoint.url}/v2/siem/all?format=json&sinceSeconds=3600`, { headers: { authorization: basic } }),
    ]);
    const got = await Promise.all(answers.map(async (a) => [a.status, await a.text()]));
    expect(got).toEqual([
      [500, JSON.stringify({ code: 1050002, msg: 'DB error' })],
      [500, '<html><head><title>500 Internal Server Error</title></head><body>Internal Server Error</body></html>'],
      [500, 'Internal Server Error'],
      [500, 'Internal Server Error'],
    ]);
  });
});
