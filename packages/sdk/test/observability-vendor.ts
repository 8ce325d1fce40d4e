import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineCollector, defineErrors, defineInput, defineService, InitVariablesError, parseConfigTime, PullError, SetupError } from '@collector/sdk';
import { type DeliveryRecord, type Output } from '@collector/sdk/host';

/**
 * A small vendor for the observability tests ("doctor"): a bearer token, a signed date header checked
 * against the server clock (like Darktrace's API DATE ERROR), and a permission switch (like Microsoft's 403),
 * so `--check` meets 401, 403 and clock skew over real HTTP.
 */
export interface DoctorEvent {
  id: string;
  t: number;
}

export interface DoctorApiOptions {
  token?: string;
  events?: DoctorEvent[];
}

export async function startDoctorApi(options: DoctorApiOptions = {}) {
  const token = options.token ?? 'doctor-token-123';
  const knobs = {
    /** 403 on /events: the API user lacks the reader role. */
    forbidden: false,
    /** The server clock minus ours; more than 5 min apart is an API DATE ERROR. */
    clockOffsetMs: 0,
    /** The next answers of /events: e.g. `[429, 500]` (429 carries `Retry-After: 0`). */
    failures: [] as number[],
  };
  const events = options.events ?? [];
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'text/html' }).end('<html><body>401 - Unauthorized</body></html>');
      return;
    }
    const sent = Date.parse(String(req.headers['x-date'] ?? ''));
    if (Number.isNaN(sent) || Math.abs(sent - (Date.now() + knobs.clockOffsetMs)) > 5 * 60_000) {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"API DATE ERROR"}');
      return;
    }
    if (url.pathname === '/whoami') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"user":"collector"}');
      return;
    }
    if (url.pathname === '/events') {
      const failure = knobs.failures.shift();
      if (failure !== undefined) {
        res.writeHead(failure, failure === 429 ? { 'retry-after': '0' } : {}).end('{"error":"try again"}');
        return;
      }
      if (knobs.forbidden) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"No permission to access the report for the organization."}');
        return;
      }
      const from = Number(url.searchParams.get('from'));
      const to = Number(url.searchParams.get('to'));
      const limit = Number(url.searchParams.get('limit') ?? 10_000);
      const body = events.filter((e) => e.t >= from && e.t < to).slice(0, limit);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    events,
    knobs,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

interface DoctorClient {
  base: string;
  headers: () => Record<string, string>;
}

export const DOCTOR_REMEDIES = {
  wrongToken: 'Copy the API token again from the vendor console (Settings → API tokens) into inputs.doctor.credentials.token',
  clock: 'Fix the clock of this host: enable NTP (timedatectl set-ntp true); the vendor rejects requests more than 5 minutes off',
  forbidden: 'Give the API user the Reader role in the vendor console, then run --check again',
};

/**
 * The doctor's declared errors. The throw sites below build their errors directly, without a remedy, so
 * `--check` must find these remedies by `<Type> <ID>` in the declaration.
 */
const doctorErrors = defineErrors({
  clockSkew: {
    type: 'SetupError', id: 102,
    message: 'API DATE ERROR: the vendor says the clock of this host is off',
    cause: 'the clock of this host is more than 5 minutes off the vendor',
    remedy: DOCTOR_REMEDIES.clock,
  },
  forbidden: {
    type: 'PullError', id: 301,
    message: 'No permission to read events (HTTP 403)',
    cause: 'the API user lacks the Reader role',
    remedy: DOCTOR_REMEDIES.forbidden,
  },
});

const service = (tag: string) =>
  defineService<DoctorClient, { start_time: string }, string>({
    tag,
    options: { type: 'object', required: ['start_time'], properties: { start_time: { type: 'string' } } },
    init(ctx) {
      if (!parseConfigTime(ctx.options.start_time)) throw new InitVariablesError(1, 'start_time is not as per the datetime_format', { path: `${ctx.path}.start_time` });
    },
    dedupKey: (e: DoctorEvent) => e.id,
    resetKey: (o) => o.start_time,
    async *pull(ctx, checkpoint) {
      const from = checkpoint ? new Date(checkpoint) : parseConfigTime(ctx.options.start_time)!;
      const windows = [...ctx.windows({ from, maxSpanMs: 3_600_000 })];
      for (const [i, w] of windows.entries()) {
        ctx.metrics.gauge('doctor_windows_pending', windows.length - i - 1);
        const res = await ctx.http.request({ url: `${ctx.client.base}/events`, query: { from: w.start.getTime(), to: w.end.getTime() }, headers: ctx.client.headers });
        if (res.status === 403) throw new PullError(301, 'No permission to read events (HTTP 403)');
        if (res.status !== 200) throw new PullError(300, `HTTP ${res.status}`);
        // An ISO string checkpoint: the lag convention reads it without a checkpointTime hook.
        yield { events: res.json<DoctorEvent[]>(), checkpoint: w.end.toISOString() };
      }
    },
    async probe(ctx) {
      const now = Date.now();
      const res = await ctx.http.request({ url: `${ctx.client.base}/events`, query: { from: now - 1000, to: now, limit: 1 }, headers: ctx.client.headers, retries: 0 });
      if (res.status === 403) throw new PullError(301, 'No permission to read events (HTTP 403)');
      if (res.status !== 200) throw new PullError(300, `HTTP ${res.status}`);
    },
  });

export const doctorCollector = defineCollector({
  name: 'doctor_collector',
  version: '0.0.1',
  inputs: [
    defineInput<DoctorClient>({
      name: 'doctor',
      credentials: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } },
      options: { type: 'object', properties: { base_url: { type: 'string' } } },
      errors: doctorErrors,
      async setup(ctx) {
        const base = String(ctx.input['base_url']);
        const token = String(ctx.credentials['token']);
        const headers = () => ({ authorization: `Bearer ${token}`, 'x-date': new Date().toISOString() });
        const res = await ctx.http.request({ url: `${base}/whoami`, headers, retries: 0 });
        if (res.status === 401) throw new SetupError(100, 'Wrong credentials (HTTP 401)', { remedy: DOCTOR_REMEDIES.wrongToken });
        if (res.status === 400 && res.text.includes('API DATE ERROR')) throw new SetupError(102, 'API DATE ERROR: the vendor says the clock of this host is off');
        if (res.status !== 200) throw new SetupError(101, `Unexpected HTTP ${res.status} from the vendor`);
        return { base, headers };
      },
      services: { alerts: service('my.app.doctor.alerts'), audit: service('my.app.doctor.audit') },
    }),
  ],
});

export function doctorConfig(api: { url: string; token: string }, start: string, globals: Record<string, unknown> = {}) {
  return {
    globals: { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { address: '127.0.0.1', port: 0 }, ...globals },
    inputs: {
      doctor: {
        id: 7,
        base_url: api.url,
        credentials: { token: api.token },
        services: { alerts: { start_time: start }, audit: { start_time: start } },
      },
    },
  };
}

/** An output whose connection can be taken down and brought back. */
export class SwitchableOutput implements Output {
  readonly type = 'switchable';
  readonly records: DeliveryRecord[] = [];
  up = true;
  constructor(readonly name = 'switchable') {}
  async start() {}
  async write(records: readonly DeliveryRecord[]) {
    if (!this.up) throw new Error('connection refused');
    this.records.push(...records);
  }
  ready() {
    return this.up;
  }
  async stop() {}
}

/** A parsed `/metrics` sample. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function metricSum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

export function hasMetric(samples: Sample[], name: string, labels: Record<string, string> = {}): boolean {
  return samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
