import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from '../http-server.js';
import { FaultSchedule, type DarktraceAnswerFault, type DropFault, type GarbageFault, type SimulatorFaults, type SlowFault, type StatusFault } from '../faults.js';
import { expectedSignature, parseDtapiDate, signaturesMatch } from './auth.js';
import {
  makeAction,
  makeBreach,
  makeIncident,
  streamIndexes,
  type DarktraceAntigenaAction,
  type DarktraceIncidentEvent,
  type DarktraceModelBreach,
  type RecordStream,
} from './data.js';

export { expectedSignature as darktraceSignature, parseDtapiDate } from './auth.js';
export type { DarktraceAntigenaAction, DarktraceIncidentEvent, DarktraceModelBreach, RecordStream as DarktraceRecordStream } from './data.js';

/**
 * A Darktrace Threat Visualizer API on 127.0.0.1 that enforces the contract of docs/vendor-apis.md §3:
 * HMAC-SHA1 signatures recomputed over the raw path and query received, DTAPI-Date within 30 minutes,
 * 400 "API SIGNATURE ERROR" / "API DATE ERROR", 302 to /login (no auth, unknown endpoint) and to /403 (a
 * token without permission), bare JSON arrays from /modelbreaches and /aianalyst/incidentevents filtered on
 * starttime/endtime (epoch ms, inclusive; values below 1e11 read as seconds like lenient appliances).
 * /modelbreaches selects on `time`, or on `creationTime` with `creationtime=true`; an incident event keeps
 * its `createdAt` when updated (`updateIncident`); /antigena answers, without a time window, every action
 * that has not expired or expired in the last 14 days (cleared ones only with `includecleared=true`), and
 * with one, the actions whose `start` lies in it; actions change state (`updateAction`).
 */

export interface DarktraceToken {
  publicToken: string;
  privateToken: string;
  /** Path prefixes this token may use; any other endpoint answers 302 to /403. Default: everything. */
  allow?: string[];
}

export interface DarktraceSimulatorOptions {
  publicToken?: string;
  privateToken?: string;
  /** More tokens, e.g. one without permission for /modelbreaches. */
  tokens?: DarktraceToken[];
  seed?: number;
  /** Generated model breaches (pbid = index + 1). Default: none. */
  breaches?: RecordStream;
  /** Generated AI Analyst incident events. Default: none. */
  incidents?: RecordStream;
  /** Answer /antigena as `{"actions": [...]}` even without `fulldevicedetails`. Default: a bare array. */
  antigenaWrapped?: boolean;
  /** creationTime - time of generated breaches; a breach is served once its creationTime has passed. Default 0. */
  breachCreationDelayMs?: number;
  /** Largest accepted |DTAPI-Date - simulator clock|. Default 30 min. */
  maxSkewMs?: number;
  /** The simulator's clock runs this far ahead of the machine's (negative: behind). Default 0. */
  clockOffsetMs?: number;
}

/**
 * The faults of the Darktrace simulator, on the paths that start with `on` (default: every path): `status`
 * is that HTTP status with an HTML error page; `garbage` a 200 with truncated JSON; `drop` hangs and drops the
 * connection; `slow` answers late (a busy appliance); `signature` and `date` are the 400 "API SIGNATURE
 * ERROR" / "API DATE ERROR" whatever was sent; `redirect-login` / `redirect-403` the 302s; `login-page` a 200
 * with the HTML login page (seen when a token lacks permission).
 */
export type DarktraceFault = StatusFault | GarbageFault | DropFault | SlowFault | DarktraceAnswerFault;

export interface DarktraceRequestLog {
  method: string;
  /** The raw request target (path and query) exactly as received. */
  target: string;
  path: string;
  status: number;
  publicToken?: string;
  date?: string;
}

export interface DarktraceSimulator {
  url: string;
  /** `127.0.0.1:<port>`, the form of `credentials.instance` (use `url` for plain HTTP in tests). */
  instance: string;
  publicToken: string;
  privateToken: string;
  requests: DarktraceRequestLog[];
  /** Adjust the simulator clock (e.g. to provoke API DATE ERROR). */
  clockOffsetMs: number;
  /** The simulator's now (epoch ms). */
  now(): number;
  /** Ground truth: breaches that exist now with `time` in [start, end). */
  breachesBetween(start: number | Date, end: number | Date): DarktraceModelBreach[];
  /** Ground truth: incident events that exist now with `createdAt` in [start, end), updates applied. */
  incidentsBetween(start: number | Date, end: number | Date): DarktraceIncidentEvent[];
  /** Ground truth: every action, cleared and expired ones included, in their current state. */
  actions(): DarktraceAntigenaAction[];
  /**
   * A breach created now whose `time` lies in the past (e.g. inside a slot the collector already pulled):
   * the late-breach knob. pbids of added breaches start at 1e9.
   */
  addBreach(time: number | Date, fields?: Partial<DarktraceModelBreach>): DarktraceModelBreach;
  addIncident(createdAt: number | Date, fields?: Partial<DarktraceIncidentEvent>): DarktraceIncidentEvent;
  /**
   * Darktrace updates an incident event (generated or added) after creating it: `changes` apply from now
   * on, `createdAt` and `id` stay. Returns the event as now served.
   */
  updateIncident(id: string, changes: Partial<DarktraceIncidentEvent>): DarktraceIncidentEvent;
  /** A RESPOND action created now (active for an hour unless `fields` say otherwise); codeids start at 1. */
  addAction(fields?: Partial<DarktraceAntigenaAction>): DarktraceAntigenaAction;
  /** An action changes state (confirmed: `active`; cleared: `cleared`; extended: `expires`). */
  updateAction(codeid: number, changes: Partial<DarktraceAntigenaAction>): DarktraceAntigenaAction;
  /** Faults on the requests whose path starts with `on` (see `DarktraceFault`). */
  faults: SimulatorFaults<DarktraceFault, string>;
  /** How many /summarystatistics snapshots were served. */
  readonly snapshotsServed: number;
  /** How many /status documents were served (setup's included). */
  readonly statusServed: number;
  close(): Promise<void>;
}

const DEFAULT_PUBLIC = 'dt-public-0123456789abcdef';
const DEFAULT_PRIVATE = 'dt-private-fedcba9876543210';
const ENDPOINTS = ['/modelbreaches', '/aianalyst/incidentevents', '/summarystatistics', '/status', '/antigena'];
/** /antigena without a time window also answers actions that expired this recently. */
const ANTIGENA_HISTORY_MS = 14 * 86_400_000;

function toMs(value: number | Date): number {
  return typeof value === 'number' ? value : value.getTime();
}

function readTime(value: string | null): number | undefined {
  if (value === null || value === '' || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n < 1e11 ? n * 1000 : n;
}

function readSpaced(value: string | null): number | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
}

export async function startDarktraceSimulator(options: DarktraceSimulatorOptions = {}): Promise<DarktraceSimulator> {
  const seed = options.seed ?? 42;
  const maxSkewMs = options.maxSkewMs ?? 30 * 60_000;
  const tokens: DarktraceToken[] = [
    { publicToken: options.publicToken ?? DEFAULT_PUBLIC, privateToken: options.privateToken ?? DEFAULT_PRIVATE },
    ...(options.tokens ?? []),
  ];
  const requests: DarktraceRequestLog[] = [];
  const addedBreaches: DarktraceModelBreach[] = [];
  const addedIncidents: DarktraceIncidentEvent[] = [];
  const incidentUpdates = new Map<string, Partial<DarktraceIncidentEvent>>();
  const actions: DarktraceAntigenaAction[] = [];
  let statusServed = 0;
  const faults = new FaultSchedule<DarktraceFault, string>({
    kinds: ['status', 'garbage', 'drop', 'slow', 'signature', 'date', 'redirect-login', 'redirect-403', 'login-page'],
    matches: (prefix, path) => path.startsWith(prefix),
  });
  let snapshotsServed = 0;
  let baseUrl = '';

  const sim = {
    clockOffsetMs: options.clockOffsetMs ?? 0,
  };
  const now = () => Date.now() + sim.clockOffsetMs;

  /** Breaches that exist at `at` with start <= time <= end (or creationTime, `byCreation`). */
  function breaches(start: number, end: number, at: number, byCreation = false): DarktraceModelBreach[] {
    const out: DarktraceModelBreach[] = [];
    const delay = options.breachCreationDelayMs ?? 0;
    // Generated breaches are created `delay` after their time: shift the window onto their times.
    const shift = byCreation ? delay : 0;
    if (options.breaches) {
      for (const { index, time } of streamIndexes(options.breaches, seed, start - shift, end - shift, at - delay)) out.push(makeBreach(seed, index, time, delay, baseUrl));
    }
    for (const b of addedBreaches) {
      const selected = byCreation ? b.creationTime : b.time;
      if (selected >= start && selected <= end && b.creationTime <= at) out.push(structuredClone(b));
    }
    return out.sort((a, b) => a.time - b.time || a.pbid - b.pbid);
  }

  function incidents(start: number, end: number, at: number): DarktraceIncidentEvent[] {
    const out: DarktraceIncidentEvent[] = [];
    if (options.incidents) for (const { index, time } of streamIndexes(options.incidents, seed, start, end, at)) out.push(makeIncident(seed, index, time, baseUrl));
    for (const i of addedIncidents) if (i.createdAt >= start && i.createdAt <= end && Number(i['_visibleFrom'] ?? 0) <= at) out.push(strip(i));
    return out.map((i) => ({ ...i, ...structuredClone(incidentUpdates.get(i.id) ?? {}) })).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** The /antigena answer: a time window selects on `start`; without one, current and recently expired. */
  function antigena(url: URL, range: { start: number; end: number } | undefined, at: number): unknown {
    const flag = (name: string) => url.searchParams.get(name) === 'true';
    const selected = actions
      .filter((a) => (range ? a.start >= range.start && a.start <= range.end : a.expires > at - ANTIGENA_HISTORY_MS))
      .filter((a) => flag('includecleared') || !a.cleared)
      .filter((a) => !url.searchParams.has('needconfirming') || flag('needconfirming') === (!a.active && !a.cleared))
      .map((a) => {
        const copy = structuredClone(a);
        if (!flag('includehistory')) delete copy['history'];
        return copy;
      });
    if (flag('fulldevicedetails')) return { actions: selected, devices: [...new Set(selected.map((a) => a.did))].map((did) => ({ did, hostname: `host-${did}` })) };
    return options.antigenaWrapped ? { actions: selected } : selected;
  }

  function strip(incident: DarktraceIncidentEvent): DarktraceIncidentEvent {
    const copy = structuredClone(incident);
    delete copy['_visibleFrom'];
    return copy;
  }

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', date: new Date(now()).toUTCString(), ...headers });
    res.end(body);
  }

  function redirect(res: ServerResponse, to: '/login' | '/403'): void {
    send(res, 302, `Found. Redirecting to ${to}`, { location: to, 'content-type': 'text/plain; charset=utf-8' });
  }

  function timeRange(url: URL): { start: number; end: number } | 'bad' {
    const hasStart = url.searchParams.has('starttime');
    const hasEnd = url.searchParams.has('endtime');
    if (hasStart || hasEnd) {
      const start = readTime(url.searchParams.get('starttime'));
      const end = readTime(url.searchParams.get('endtime'));
      if (start === undefined || end === undefined || start > end) return 'bad';
      return { start, end };
    }
    if (url.searchParams.has('from') || url.searchParams.has('to')) {
      const start = readSpaced(url.searchParams.get('from'));
      const end = readSpaced(url.searchParams.get('to'));
      if (start === undefined || end === undefined || start > end) return 'bad';
      return { start, end };
    }
    const at = now();
    return { start: at - 3_600_000, end: at };
  }

  /** The window of /antigena, or undefined (none given: current and recent actions). */
  function optionalRange(url: URL): { start: number; end: number } | undefined | 'bad' {
    return ['starttime', 'endtime', 'from', 'to'].some((p) => url.searchParams.has(p)) ? timeRange(url) : undefined;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? '/';
    const url = new URL(target, 'http://simulator');
    const entry: DarktraceRequestLog = { method: req.method ?? 'GET', target, path: url.pathname, status: 0 };
    requests.push(entry);
    const reply = (status: number, body: string, headers?: Record<string, string>) => {
      entry.status = status;
      send(res, status, body, headers);
    };
    const fault = faults.take(url.pathname);
    if (fault) {
      switch (fault.kind) {
        case 'status':
          return reply(fault.status, `<html><head><title>${fault.status} ${STATUS_CODES[fault.status] ?? ''}</title></head><body>${STATUS_CODES[fault.status] ?? ''}</body></html>`, { 'content-type': 'text/html' });
        case 'garbage':
          return reply(200, '[{"pbid": 1, "time": 16745222650');
        case 'drop':
          entry.status = -1;
          setTimeout(() => req.socket.destroy(), fault.afterMs ?? 200);
          return;
        case 'signature':
          return reply(400, JSON.stringify({ error: 'API SIGNATURE ERROR' }));
        case 'date':
          return reply(400, JSON.stringify({ error: 'API DATE ERROR' }));
        case 'redirect-login':
          entry.status = 302;
          return redirect(res, '/login');
        case 'redirect-403':
          entry.status = 302;
          return redirect(res, '/403');
        case 'login-page':
          return reply(200, '<!DOCTYPE html><html><head><title>Log In | Darktrace</title></head><body><form action="/login"></form></body></html>', { 'content-type': 'text/html; charset=utf-8' });
        case 'slow':
          setTimeout(() => {
            if (!res.destroyed && !req.socket.destroyed) serve(req, res, url, entry, reply);
          }, fault.delayMs ?? 200);
          return;
      }
    }
    serve(req, res, url, entry, reply);
  }

  function serve(req: IncomingMessage, res: ServerResponse, url: URL, entry: DarktraceRequestLog, reply: (status: number, body: string, headers?: Record<string, string>) => void): void {
    const target = entry.target;

    const publicToken = req.headers['dtapi-token'];
    const date = req.headers['dtapi-date'];
    const signature = req.headers['dtapi-signature'];
    if (typeof publicToken !== 'string' || typeof date !== 'string' || typeof signature !== 'string') {
      entry.status = 302;
      return redirect(res, '/login');
    }
    entry.publicToken = publicToken;
    entry.date = date;
    const token = tokens.find((t) => t.publicToken === publicToken);
    // The signature covers the raw target: any re-encoding or re-ordering between signing and sending breaks it.
    if (!token || !signaturesMatch(expectedSignature(token.privateToken, publicToken, target, date), signature)) {
      return reply(400, JSON.stringify({ error: 'API SIGNATURE ERROR' }));
    }
    const sent = parseDtapiDate(date);
    if (sent === undefined || Math.abs(sent - now()) > maxSkewMs) return reply(400, JSON.stringify({ error: 'API DATE ERROR' }));
    if (!ENDPOINTS.includes(url.pathname)) {
      entry.status = 302;
      return redirect(res, '/login');
    }
    if (token.allow && !token.allow.some((prefix) => url.pathname.startsWith(prefix))) {
      entry.status = 302;
      return redirect(res, '/403');
    }
    if (req.method !== 'GET') return reply(405, JSON.stringify({ error: 'Method not allowed' }));
    const flag = (name: string) => url.searchParams.get(name) === 'true';

    switch (url.pathname) {
      case '/status': {
        statusServed++;
        const at = now();
        const iso = new Date(at).toISOString();
        const status: Record<string, unknown> = {
          excessTraffic: false,
          time: `${iso.slice(0, 10)} ${iso.slice(11, 16)}`,
          installed: '2023-01-10',
          version: '6.1.20 (a1b2c3)',
          ipAddress: '10.0.0.5',
          label: 'simulated-master',
          hostname: 'dt-simulator',
          uuid: '5e1d1a2b-0000-4000-8000-000000000001',
          type: 'master',
          load: 12,
          cpu: 7,
          memoryUsed: 41,
          licenseCounts: { saas: 12, network: 512 },
          networkInterfacesState_eth0: 'up',
          ...(flag('includechildren') || !url.searchParams.has('includechildren')
            ? { probes: { '12': { id: 12, version: '6.1.20', ipAddress: '10.0.0.12', label: 'probe-12', time: `${iso.slice(0, 10)} ${iso.slice(11, 16)}`, error: false } } }
            : {}),
        };
        const only = url.searchParams.get('responsedata');
        return reply(200, JSON.stringify(only ? { [only]: status[only] } : status));
      }
      case '/modelbreaches': {
        const range = timeRange(url);
        if (range === 'bad') return reply(400, JSON.stringify({ error: 'Invalid time parameters: starttime and endtime must be given together, in ms' }));
        const minscore = url.searchParams.has('minscore') ? Number(url.searchParams.get('minscore')) : undefined;
        const out = breaches(range.start, range.end, now(), flag('creationtime'))
          .filter((b) => flag('includeacknowledged') || !b.acknowledged)
          .filter((b) => minscore === undefined || b.score >= minscore)
          .map((b) => {
            if (!flag('includebreachurl')) delete b.breachUrl;
            if (flag('historicmodelonly')) delete b.model.now;
            if (flag('minimal')) b.triggeredComponents = [];
            return b;
          });
        return reply(200, JSON.stringify(out));
      }
      case '/aianalyst/incidentevents': {
        const range = timeRange(url);
        if (range === 'bad') return reply(400, JSON.stringify({ error: 'Invalid time parameters: starttime and endtime must be given together, in ms' }));
        const out = incidents(range.start, range.end, now())
          .filter((i) => flag('includeacknowledged') || !i.acknowledged)
          .map((i) => {
            if (!flag('includeincidenteventurl')) delete i.incidentEventUrl;
            return i;
          });
        return reply(200, JSON.stringify(out));
      }
      case '/antigena': {
        const range = optionalRange(url);
        if (range === 'bad') return reply(400, JSON.stringify({ error: 'Invalid time parameters: starttime and endtime must be given together, in ms' }));
        return reply(200, JSON.stringify(antigena(url, range, now())));
      }
      case '/summarystatistics': {
        snapshotsServed++;
        const at = now();
        const dayAgo = at - 86_400_000;
        const hour = Math.floor(at / 3_600_000) * 3_600_000;
        return reply(
          200,
          JSON.stringify({
            usercredentialcount: 3,
            subnets: 12,
            patterns: 41,
            devicecount: 512,
            breachcount24h: breaches(dayAgo, at, at).length,
            bandwidth: [0, 1, 2].map((k) => ({
              timems: hour - k * 3_600_000,
              time: new Date(hour - k * 3_600_000).toISOString().slice(0, 16).replace('T', ' '),
              ininternal: 1_000_000 + k,
              outinternal: 900_000 + k,
              inexternal: 500_000 + k,
              outexternal: 400_000 + k,
            })),
            snapshot: snapshotsServed,
          }),
        );
      }
    }
    return reply(404, JSON.stringify({ error: 'Not found' }));
  }

  const server: Server = createServer(handle);
  const { url, port } = await listenOnLoopback(server);
  baseUrl = url;
  let nextAddedPbid = 1_000_000_000;
  let nextAddedIncident = 0;
  const historyEntry = (action: DarktraceAntigenaAction) => ({ time: now(), active: action.active, cleared: action.cleared, expires: action.expires });

  return {
    url: baseUrl,
    instance: `127.0.0.1:${port}`,
    publicToken: tokens[0]!.publicToken,
    privateToken: tokens[0]!.privateToken,
    requests,
    get clockOffsetMs() {
      return sim.clockOffsetMs;
    },
    set clockOffsetMs(value: number) {
      sim.clockOffsetMs = value;
    },
    now,
    breachesBetween: (start, end) => breaches(toMs(start), toMs(end) - 1, now()),
    incidentsBetween: (start, end) => incidents(toMs(start), toMs(end) - 1, now()),
    actions: () => structuredClone(actions),
    addBreach(time, fields = {}) {
      const t = toMs(time);
      const pbid = nextAddedPbid++;
      const breach: DarktraceModelBreach = { ...makeBreach(seed + 5, pbid, t, 0, baseUrl), pbid, creationTime: now(), acknowledged: false, ...fields };
      addedBreaches.push(breach);
      return structuredClone(breach);
    },
    addIncident(createdAt, fields = {}) {
      const index = 1_000_000 + nextAddedIncident++;
      const incident = { ...makeIncident(seed + 5, index, toMs(createdAt), baseUrl), acknowledged: false, ...fields, _visibleFrom: now() };
      addedIncidents.push(incident);
      return strip(incident);
    },
    updateIncident(id, changes) {
      incidentUpdates.set(id, { ...(incidentUpdates.get(id) ?? {}), ...structuredClone(changes) });
      const found = incidents(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, now()).find((i) => i.id === id);
      if (!found) throw new Error(`No incident event ${id}`);
      return found;
    },
    addAction(fields = {}) {
      const action = { ...makeAction(seed, actions.length + 1, now()), ...structuredClone(fields) };
      action['history'] = [historyEntry(action)];
      actions.push(action);
      return structuredClone(action);
    },
    updateAction(codeid, changes) {
      const action = actions.find((a) => a.codeid === codeid);
      if (!action) throw new Error(`No action ${codeid}`);
      Object.assign(action, structuredClone(changes));
      (action['history'] as unknown[]).push(historyEntry(action));
      return structuredClone(action);
    },
    faults,
    get snapshotsServed() {
      return snapshotsServed;
    },
    get statusServed() {
      return statusServed;
    },
    close: () => closeServer(server),
  };
}
