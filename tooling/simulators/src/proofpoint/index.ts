import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  generateProofpointEvents,
  proofpointCreationTime,
  proofpointEventStream,
  PROOFPOINT_SIEM_SERVICES,
  type GenerateProofpointEventsOptions,
  type ProofpointRecord,
  type ProofpointSiemService,
} from './events.js';
import { closeServer, listenOnLoopback } from '../http-server.js';
import { RecordTexts, TimeOrder } from '../record-texts.js';
import { FaultSchedule, type AnswerFault, type GarbageFault, type SimulatorFaults, type StatusFault } from '../faults.js';
import { setRecordThreatStatus, threatForensics, threatsOfRecord, threatSummary, type ProofpointThreat, type ProofpointThreatStatus } from './threats.js';

// Proofpoint-prefixed names only: src/index.ts re-exports every vendor's simulator with `export *`.
export {
  generateProofpointEvents,
  makeProofpointClick,
  makeProofpointMessage,
  proofpointCreationTime,
  PROOFPOINT_SIEM_SERVICES,
  type GenerateProofpointEventsOptions,
  type ProofpointRecord,
  type ProofpointSiemService,
} from './events.js';
export { threatForensics as proofpointThreatForensics, threatSummary as proofpointThreatSummary, type ProofpointThreat, type ProofpointThreatStatus } from './threats.js';

/**
 * A Proofpoint TAP SIEM API v2 simulator (vendor-apis.md §4). It enforces what the real API enforces:
 * - `GET /v2/siem/{messages/blocked, messages/delivered, clicks/blocked, clicks/permitted, issues, all}`
 *   with HTTP Basic `principal:secret` (401 otherwise).
 * - Exactly one time selector: `interval=<ISO start>/<ISO end>` (or `PT30M/<end>`), `sinceSeconds`
 *   (30–3600) or `sinceTime`. An interval over 1 hour, under 30 seconds, inverted, or starting more than
 *   7 days back is HTTP 400 with a plain-text reason, like the real service.
 * - Events are selected by creation time (the later of message/click time and threat time), half-open
 *   `[start, end)`, unordered; no paging. `queryEndTime` is the end of the interval (never after now).
 * - Nothing matching: HTTP 204 with no body (default) or 200 with empty arrays (`emptyResponse: 'arrays'`).
 * - The quota: `quota` requests per rolling `quotaWindowMs` (1800 per 24 h) per pool: `clicks/permitted`
 *   has its own pool, every other endpoint shares one. Over it: HTTP 429, no Retry-After, until the oldest
 *   counted request leaves the window. Throttled and unauthenticated requests are not counted.
 * - Late indexing: an event becomes visible `indexingLagMs` after its creation time, or only after
 *   `releaseLateEvents()` when added with `addLateEvents` (it lands in a window already queried).
 * - The Threat API, `GET /v2/threat/summary/<threatId>`: every threat of every record added is known, with
 *   the status of its record; `setThreatStatus` changes it (and the `threatStatus` Proofpoint shows in the
 *   SIEM records that carry it). Unknown IDs are 404. No throttle, as Proofpoint documents.
 * - The Forensics API, `GET /v2/forensics?threatId=<id>[&includecampaignforensics=true|false]` or
 *   `?campaignId=<id>`: exactly one of the two IDs (400 otherwise), `includecampaignforensics` only with a
 *   threat ID, 404 for unknown IDs. Its own quotas: `forensicsQuota` (50) threat requests and 1800
 *   campaign requests per rolling `quotaWindowMs`, 429 beyond, apart from the SIEM pools.
 * Faults (`faults.inject`, see `ProofpointFault`) answer SIEM requests instead; `requests` is the ground
 * truth of what the collector asked for, `maxQuotaUsage` the most requests a pool ever had in one window.
 * Records are kept as their JSON text (`RecordTexts`), as added: changing a record object after adding it
 * changes nothing served (`setThreatStatus` is how Proofpoint's records change).
 */
export interface ProofpointSimulatorOptions {
  principal?: string;
  secret?: string;
  /** Requests per pool per rolling window. Default 1800 (scale it down in tests). */
  quota?: number;
  /** The rolling window of the quota. Default 24 h. */
  quotaWindowMs?: number;
  /** Longest interval accepted. Default 1 h. */
  maxIntervalMs?: number;
  /** Shortest interval accepted. Default 30 s. */
  minIntervalMs?: number;
  /** How far back an interval may start. Default 7 days. */
  maxLookbackMs?: number;
  /** What "nothing matched" looks like. Default 204. */
  emptyResponse?: 204 | 'arrays';
  /** Forensics requests by threat ID per rolling window. Default 50 (Proofpoint's). */
  forensicsQuota?: number;
  /** Delay of every Threat API answer (lets a test kill the collector in the middle of a pull). Default 0. */
  threatLatencyMs?: number;
  /** Every event becomes visible this long after its creation time. Default 0. */
  indexingLagMs?: number;
  /** Deterministic events to start with. */
  generate?: Omit<GenerateProofpointEventsOptions, 'seed'>[];
  seed?: number;
  clock?: () => number;
}

export type ProofpointPool = 'default' | 'clicksPermitted' | 'forensics' | 'forensicsCampaign';

export interface ProofpointRequestLogEntry {
  at: number;
  path: string;
  pool: ProofpointPool | undefined;
  status: number;
  /** The selected [start, end) in epoch ms, when the query was valid. */
  interval?: { start: number; end: number };
  /** Records returned. */
  count: number;
  /** The query string as received. */
  query: string;
}

/**
 * The faults of the Proofpoint simulator, on the SIEM endpoints (`siem`), after authentication and not counted
 * against the quota: `status` is that HTTP status with its plain-text reason; `throttle` the quota's 429 (no
 * Retry-After, as Proofpoint); `garbage` a 200 with truncated JSON; `answer` exactly the answer given.
 */
export type ProofpointFault = StatusFault | { kind: 'throttle' } | GarbageFault | AnswerFault;

const ENDPOINTS: Record<string, { arrays: ProofpointSiemService[]; pool: ProofpointPool }> = {
  'messages/blocked': { arrays: ['messagesBlocked'], pool: 'default' },
  'messages/delivered': { arrays: ['messagesDelivered'], pool: 'default' },
  'clicks/blocked': { arrays: ['clicksBlocked'], pool: 'default' },
  'clicks/permitted': { arrays: ['clicksPermitted'], pool: 'clicksPermitted' },
  issues: { arrays: ['clicksPermitted', 'messagesDelivered'], pool: 'default' },
  all: { arrays: ['clicksBlocked', 'clicksPermitted', 'messagesBlocked', 'messagesDelivered'], pool: 'default' },
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The ISO 8601 forms the API takes: a date-time with Z or an offset. */
function parseIso(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `PT30M`, `PT1H`, `PT90S` (the duration form of an interval start). */
function parseDuration(value: string): number | undefined {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(value);
  if (!m || value === 'PT') return undefined;
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
}

export async function startProofpointSimulator(options: ProofpointSimulatorOptions = {}) {
  const principal = options.principal ?? 'pp-principal';
  const secret = options.secret ?? 'pp-secret';
  const clock = options.clock ?? Date.now;
  const quotaWindowMs = options.quotaWindowMs ?? DAY;
  const maxIntervalMs = options.maxIntervalMs ?? HOUR;
  const minIntervalMs = options.minIntervalMs ?? 30_000;
  const maxLookbackMs = options.maxLookbackMs ?? 7 * DAY;
  const lag = options.indexingLagMs ?? 0;
  const knobs = {
    quota: options.quota ?? 1800,
    forensicsQuota: options.forensicsQuota ?? 50,
    threatLatencyMs: options.threatLatencyMs ?? 0,
    emptyResponse: options.emptyResponse ?? (204 as 204 | 'arrays'),
  };

  // Every record's text, in the order added (ids), and per service the order by creation time.
  const texts = new RecordTexts();
  const store = new Map<ProofpointSiemService, TimeOrder>(PROOFPOINT_SIEM_SERVICES.map((s) => [s, new TimeOrder()]));
  const counted: Record<ProofpointPool, number[]> = { default: [], clicksPermitted: [], forensics: [], forensicsCampaign: [] };
  const maxUsage: Record<ProofpointPool, number> = { default: 0, clicksPermitted: 0, forensics: 0, forensicsCampaign: 0 };
  /**
   * The threats the records name, by ID, with the status of the first record that named one; built at the
   * first Threat, Forensics or `threats()` call (a bench that never asks holds no object per threat).
   */
  let threatsById: Map<string, ProofpointThreat> | undefined;
  /** Threats the SIEM records name but the Threat and Forensics APIs do not know yet (404). */
  const unknownThreats = new Set<string>();
  const requests: ProofpointRequestLogEntry[] = [];
  const faults = new FaultSchedule<ProofpointFault, 'siem'>({ kinds: ['status', 'throttle', 'garbage', 'answer'], endpoint: 'siem' });
  let throttled = 0;

  function add(service: ProofpointSiemService, records: Iterable<ProofpointRecord>, visibleAt?: number): void {
    const order = store.get(service)!;
    for (const record of records) {
      const createdAt = proofpointCreationTime(record);
      order.add(createdAt, visibleAt ?? createdAt + lag, texts.add(record));
      if (threatsById) registerThreats(threatsById, record);
    }
  }

  function registerThreats(into: Map<string, ProofpointThreat>, record: ProofpointRecord): void {
    for (const t of threatsOfRecord(record)) {
      if (!into.has(t.id)) {
        const status = (['active', 'cleared', 'falsePositive'].includes(t.status) ? t.status : 'active') as ProofpointThreatStatus;
        into.set(t.id, { id: t.id, status, identifiedAt: t.time, type: t.type, category: t.category, campaignId: t.campaignId });
      }
    }
  }

  /** The threat registry, built from every record in the order added (as if registered at each add). */
  function threats(): Map<string, ProofpointThreat> {
    if (!threatsById) {
      threatsById = new Map();
      for (let id = 0; id < texts.size; id++) registerThreats(threatsById, texts.parse(id));
    }
    return threatsById;
  }

  for (const [i, spec] of (options.generate ?? []).entries()) add(spec.service, proofpointEventStream({ ...spec, seed: (options.seed ?? 7) + i }));

  /** Record ids created in [start, end) and visible at `now`, by creation time (the order added among equals). */
  function select(service: ProofpointSiemService, start: number, end: number, now: number): number[] {
    return store.get(service)!.between(start, end, now);
  }

  function inWindow(pool: ProofpointPool, now: number): number {
    const times = counted[pool];
    const horizon = now - quotaWindowMs;
    let drop = 0;
    while (drop < times.length && times[drop]! <= horizon) drop++;
    if (drop) times.splice(0, drop);
    return times.length;
  }

  function authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+(.+)$/i.exec(header);
    if (!m) return false;
    return Buffer.from(m[1]!, 'base64').toString('utf8') === `${principal}:${secret}`;
  }

  /** Resolves the time selector to [start, end), or a 400 reason. */
  function timeSelector(params: URLSearchParams, now: number): { start: number; end: number } | string {
    const given = ['interval', 'sinceSeconds', 'sinceTime'].filter((k) => params.has(k));
    if (given.length !== 1) return 'Exactly one of interval, sinceSeconds or sinceTime must be given.';
    const minuteNow = Math.floor(now / 60_000) * 60_000;
    let start: number;
    let end: number;
    if (given[0] === 'interval') {
      const [a = '', b = '', ...rest] = params.get('interval')!.split('/');
      const e = parseIso(b);
      if (rest.length || e === undefined) return `The interval parameter is not a valid ISO8601 interval: ${params.get('interval')}`;
      const duration = a.startsWith('P') ? parseDuration(a) : undefined;
      const s = duration !== undefined ? e - duration : parseIso(a);
      if (s === undefined) return `The interval parameter is not a valid ISO8601 interval: ${params.get('interval')}`;
      start = s;
      end = e;
    } else if (given[0] === 'sinceSeconds') {
      const seconds = Number(params.get('sinceSeconds'));
      if (!Number.isInteger(seconds) || seconds < 30 || seconds > 3600) return 'sinceSeconds must be an integer between 30 and 3600.';
      end = minuteNow;
      start = end - seconds * 1000;
    } else {
      const s = parseIso(params.get('sinceTime')!);
      if (s === undefined) return `The sinceTime parameter is not a valid ISO8601 date: ${params.get('sinceTime')}`;
      start = s;
      end = minuteNow;
    }
    if (end <= start) return 'The interval end must be after its start.';
    if (end - start > maxIntervalMs) return `The requested interval is too long. The interval must not be longer than ${maxIntervalMs / 60_000} minutes.`;
    if (end - start < minIntervalMs) return `The requested interval is too short. The interval must be at least ${minIntervalMs / 1000} seconds.`;
    if (start < now - maxLookbackMs) return `The requested start time is too far into the past. It must be within the last ${maxLookbackMs / DAY} days.`;
    if (start > now) return 'The requested start time is in the future.';
    return { start, end };
  }

  /** Counts a request in a pool; false (and the caller answers 429) when the pool is spent. */
  function spend(pool: ProofpointPool, limit: number, now: number): boolean {
    if (inWindow(pool, now) >= limit) {
      throttled++;
      return false;
    }
    counted[pool].push(now);
    maxUsage[pool] = Math.max(maxUsage[pool], counted[pool].length);
    return true;
  }

  function forensics(params: URLSearchParams, now: number, log: ProofpointRequestLogEntry, reply: (status: number, body?: string) => void): void {
    const threatId = params.get('threatId');
    const campaignId = params.get('campaignId');
    const include = params.get('includecampaignforensics');
    if ((threatId === null) === (campaignId === null)) return reply(400, 'The request is missing a mandatory request parameter: exactly one of threatId or campaignId.');
    if (include !== null && (campaignId !== null || !['true', 'false'].includes(include))) {
      return reply(400, `The includecampaignforensics parameter is incorrectly formatted or not allowed here: ${include}`);
    }
    const pool: ProofpointPool = threatId !== null ? 'forensics' : 'forensicsCampaign';
    log.pool = pool;
    if (!spend(pool, pool === 'forensics' ? knobs.forensicsQuota : 1800, now)) {
      return reply(429, `Too many requests. The limit of ${pool === 'forensics' ? knobs.forensicsQuota : 1800} forensics requests per ${quotaWindowMs / HOUR} hours has been reached.`);
    }
    if (threatId !== null) {
      const threat = unknownThreats.has(threatId) ? undefined : threats().get(threatId);
      if (!threat) return reply(404, `The threat ID ${threatId} does not exist.`);
      const body = threatForensics(threat, include === 'true', now);
      log.count = (body['reports'] as unknown[]).length;
      return reply(200, JSON.stringify(body));
    }
    const campaign = [...threats().values()].find((t) => t.campaignId === campaignId);
    if (!campaign) return reply(404, `The campaign ID ${campaignId} does not exist.`);
    const body = threatForensics({ ...campaign, id: campaign.campaignId! }, false, now);
    return reply(200, JSON.stringify({ ...body, reports: (body['reports'] as Record<string, unknown>[]).map((r) => ({ ...r, scope: 'CAMPAIGN' })) }));
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const now = clock();
    const url = new URL(req.url ?? '/', 'http://simulator');
    const log: ProofpointRequestLogEntry = { at: now, path: url.pathname, pool: undefined, status: 0, count: 0, query: url.search.replace(/^\?/, '') };
    requests.push(log);
    const reply = (status: number, body?: string | Buffer, headers: Record<string, string> = {}) => {
      log.status = status;
      // A SIEM answer (Buffer) and every JSON body start with '{'; Proofpoint's errors are plain text.
      const contentType = body === undefined ? {} : { 'content-type': body[0] === '{' || body[0] === 0x7b ? 'application/json' : 'text/plain; charset=utf-8' };
      res.writeHead(status, { ...contentType, ...headers });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, 'Method Not Allowed');
    if (url.pathname.startsWith('/v2/threat/') || url.pathname === '/v2/forensics') {
      if (!authorized(req)) return reply(401, 'The credentials provided are not valid.');
      if (url.pathname === '/v2/forensics') return forensics(url.searchParams, now, log, reply);
      const m = /^\/v2\/threat\/summary\/([^/]+)$/.exec(url.pathname);
      if (!m) return reply(404, 'Not Found');
      const id = decodeURIComponent(m[1]!);
      const threat = unknownThreats.has(id) ? undefined : threats().get(id);
      const answer = () => (threat ? reply(200, JSON.stringify(threatSummary(threat))) : reply(404, `The threat ID ${m[1]} does not exist.`));
      if (knobs.threatLatencyMs > 0) setTimeout(answer, knobs.threatLatencyMs);
      else answer();
      return;
    }
    const endpoint = ENDPOINTS[url.pathname.replace(/^\/v2\/siem\//, '')];
    if (!url.pathname.startsWith('/v2/siem/') || !endpoint) return reply(404, 'Not Found');
    if (!authorized(req)) return reply(401, 'The credentials provided are not valid.');
    log.pool = endpoint.pool;
    const fault = faults.take('siem');
    if (fault) return reply(...faultAnswer(fault));
    if (!spend(endpoint.pool, knobs.quota, now)) return reply(429, quotaReached());
    const format = url.searchParams.get('format') ?? 'json';
    if (format !== 'json') return reply(400, `Unsupported format: ${format} (the simulator answers json only).`);
    const window = timeSelector(url.searchParams, now);
    if (typeof window === 'string') return reply(400, window);
    log.interval = window;
    const queryEndTime = isoSeconds(Math.min(window.end, now));
    // `{"queryEndTime":"…","<array>":[…],…}`: JSON.stringify of that object, each record as its stored text.
    const parts: (string | number[])[] = [`{"queryEndTime":${JSON.stringify(queryEndTime)}`];
    for (const array of endpoint.arrays) {
      const ids = select(array, window.start, Math.min(window.end, now + 1), now);
      parts.push(`,${JSON.stringify(array)}:[`, ids, ']');
      log.count += ids.length;
    }
    parts.push('}');
    if (log.count === 0 && knobs.emptyResponse === 204) return reply(204);
    reply(200, texts.join(parts));
  }

  function quotaReached(): string {
    return `Too many requests. The limit of ${knobs.quota} requests per ${quotaWindowMs / HOUR} hours has been reached.`;
  }

  function faultAnswer(fault: ProofpointFault): [status: number, body: string, headers?: Record<string, string>] {
    if (fault.kind === 'throttle' || ('status' in fault && fault.status === 429)) throttled++;
    switch (fault.kind) {
      case 'status':
        return [fault.status, STATUS_CODES[fault.status] ?? 'Error'];
      case 'throttle':
        return [429, quotaReached()];
      case 'garbage':
        return [200, '{"queryEndTime": "2'];
      case 'answer':
        return [fault.status, typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body), fault.headers];
    }
  }

  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  server.keepAliveTimeout = 5_000;
  const { url } = await listenOnLoopback(server);

  return {
    url,
    principal,
    secret,
    /** Every request the simulator answered, in order. */
    requests,
    /** Mutable: the quota per pool and what an empty result looks like. */
    knobs,
    /** Adds records (as their text at this moment), visible `indexingLagMs` after their creation time (or at `visibleAt`). */
    addEvents(service: ProofpointSiemService, records: Iterable<ProofpointRecord>, visibleAt?: number): void {
      add(service, records, visibleAt);
    },
    /** Adds records that stay invisible until `releaseLateEvents()`: late-indexed events. */
    addLateEvents(service: ProofpointSiemService, records: Iterable<ProofpointRecord>): void {
      add(service, records, Number.POSITIVE_INFINITY);
    },
    releaseLateEvents(): void {
      const now = clock();
      for (const order of store.values()) order.release(now);
    },
    /** Generates deterministic events and adds them; returns them (copies: see `addEvents`). */
    generate(opts: GenerateProofpointEventsOptions): ProofpointRecord[] {
      const records = generateProofpointEvents(opts);
      add(opts.service, records);
      return records;
    },
    /** Every record of a service (the ground truth, new objects), including not yet visible ones, by creation time. */
    events(service: ProofpointSiemService): ProofpointRecord[] {
      return store.get(service)!.ids().map((id) => texts.parse<ProofpointRecord>(id));
    },
    /**
     * A top-level string field of every record of a service (default `id`, the per-recipient identity), by
     * creation time, read from the records' text: the ground truth of a million-record bench without a million
     * objects.
     */
    eventIds(service: ProofpointSiemService, key = 'id'): string[] {
      return store.get(service)!.ids().map((id) => String(texts.field(id, key)));
    },
    /** Every threat the records added refer to, with its current status. */
    threats(): ProofpointThreat[] {
      return [...threats().values()].map((t) => ({ ...t }));
    },
    /** Proofpoint re-classifies a threat: its summary, forensics and the SIEM records that carry it show `status`. */
    setThreatStatus(id: string, status: ProofpointThreatStatus): void {
      const threat = threats().get(id);
      if (!threat) throw new Error(`No threat ${id}`);
      threat.status = status;
      // Only the records whose text names the threat are parsed and written again (key order kept).
      const needle = Buffer.from(JSON.stringify(id));
      for (let recordId = 0; recordId < texts.size; recordId++) {
        if (!texts.bytes(recordId).includes(needle)) continue;
        const record = texts.parse<ProofpointRecord>(recordId);
        setRecordThreatStatus(record, id, status);
        texts.replace(recordId, record);
      }
    },
    /** `false`: the Threat and Forensics APIs answer 404 for this threat (not known yet) until set back to `true`. */
    setThreatKnown(id: string, known: boolean): void {
      if (known) unknownThreats.delete(id);
      else unknownThreats.add(id);
    },
    /** Faults on the SIEM requests (see `ProofpointFault`). */
    faults: faults as SimulatorFaults<ProofpointFault, 'siem'>,
    /** Counted requests of a pool in the current window. */
    quotaUsed(pool: ProofpointPool): number {
      return inWindow(pool, clock());
    },
    /** The most counted requests a pool ever had inside one rolling window. */
    maxQuotaUsage(pool: ProofpointPool): number {
      return maxUsage[pool];
    },
    get throttled(): number {
      return throttled;
    },
    close(): Promise<void> {
      return closeServer(server);
    },
  };
}

export type ProofpointSimulator = Awaited<ReturnType<typeof startProofpointSimulator>>;
