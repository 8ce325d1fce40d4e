import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpClient } from '@collector/sdk';
import { DarktraceClient, buildQuery, formatDtapiDate, instanceBaseUrl, signDarktraceRequest } from '@collector/darktrace';
import { startDarktraceSimulator } from '@collector/simulators';

describe('Darktrace request signing', () => {
  it('matches fixed vectors computed independently (node:crypto here, openssl for the literals)', () => {
    const vectors = [
      {
        priv: 'dt-private-token',
        pub: 'dt-public-token',
        pq: '/modelbreaches?starttime=1674522265000&endtime=1674525865000',
        date: '20240105T144400',
        // printf '<pq>\n<pub>\n<date>' | openssl dgst -sha1 -hmac <priv>
        hex: '9c23b6aa7bef5d544fa656015615b4a1874bafbe',
      },
      { priv: 'PRIV', pub: 'PUB', pq: '/summarystatistics', date: '2024-01-05 14:44:00', hex: 'a9838c2aa01004ab1f6020f78d76c04524fc7e5d' },
    ];
    for (const v of vectors) {
      const independent = createHmac('sha1', v.priv).update(`${v.pq}\n${v.pub}\n${v.date}`).digest('hex');
      expect(independent).toBe(v.hex);
      expect(signDarktraceRequest(v.priv, v.pub, v.pq, v.date)).toBe(v.hex);
    }
  });

  it('dates are UTC YYYYMMDDTHHMMSS and queries keep their order', () => {
    expect(formatDtapiDate(new Date('2024-01-05T14:44:00.999Z'))).toBe('20240105T144400');
    expect(buildQuery([['starttime', 2], ['endtime', 1], ['includebreachurl', true]])).toBe('starttime=2&endtime=1&includebreachurl=true');
  });

  it('signs the path and query exactly as sent, with a fresh date per attempt', () => {
    const client = new DarktraceClient('https://dt.example.com', 'pub', 'priv', () => new Date('2024-01-05T14:44:00Z'));
    const url = new URL('https://dt.example.com/modelbreaches?starttime=1&endtime=2&expandenums=true');
    const headers = client.signedHeaders(url);
    expect(headers['DTAPI-Token']).toBe('pub');
    expect(headers['DTAPI-Date']).toBe('20240105T144400');
    const expected = createHmac('sha1', 'priv').update('/modelbreaches?starttime=1&endtime=2&expandenums=true\npub\n20240105T144400').digest('hex');
    expect(headers['DTAPI-Signature']).toBe(expected);
  });

  it('is accepted by the simulator, which recomputes the signature over the raw target', async () => {
    const sim = await startDarktraceSimulator();
    try {
      const client = new DarktraceClient(sim.url, sim.publicToken, sim.privateToken);
      const http = new HttpClient({ backoffBaseMs: 1 });
      const body = await client.getJson<unknown[]>(http, '/modelbreaches', [['starttime', 1_000_000_000_000], ['endtime', 1_000_000_360_000], ['includeacknowledged', 'true']], { phase: 'pull' });
      expect(body).toEqual([]);
      expect(sim.requests.at(-1)).toMatchObject({ status: 200, target: '/modelbreaches?starttime=1000000000000&endtime=1000000360000&includeacknowledged=true' });
      // A wrong private token gives the API's signature error, mapped to SetupError 101.
      const wrong = new DarktraceClient(sim.url, sim.publicToken, 'not-the-private-token');
      await expect(wrong.getJson(http, '/summarystatistics', [], { phase: 'pull' })).rejects.toMatchObject({ type: 'SetupError', id: 101 });
    } finally {
      await sim.close();
    }
  });

  it('reads credentials.instance as host[:port] (HTTPS) or an explicit URL', () => {
    expect(instanceBaseUrl('azeus1-75836-01.cloud.darktrace.com')).toBe('https://azeus1-75836-01.cloud.darktrace.com');
    expect(instanceBaseUrl('10.0.0.5:8443')).toBe('https://10.0.0.5:8443');
    expect(instanceBaseUrl('https://dt.example.com/')).toBe('https://dt.example.com');
    expect(instanceBaseUrl('http://127.0.0.1:4000')).toBe('http://127.0.0.1:4000');
    expect(instanceBaseUrl('dt.example.com/path')).toBeUndefined();
    expect(instanceBaseUrl('https://dt.example.com/api')).toBeUndefined();
    expect(instanceBaseUrl('host:99999')).toBeUndefined();
    expect(instanceBaseUrl('bad host')).toBeUndefined();
  });
});
