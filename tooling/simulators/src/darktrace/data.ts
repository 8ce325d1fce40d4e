/**
 * Deterministic Darktrace records. Generated streams are computed by index (no arrays of pre-built
 * records), so a window query over 100k+ breaches costs only the records it returns.
 */

export interface RecordStream {
  /** First record time (epoch ms or Date). */
  from: number | Date;
  /** Records stop before this time (default: never; records exist up to the simulator's now). */
  to?: number | Date;
  /** One record per `everyMs`, at a seeded offset inside each step. */
  everyMs: number;
}

export interface DarktraceModelBreach {
  commentCount: number;
  pbid: number;
  time: number;
  creationTime: number;
  model: { then: Record<string, unknown>; now?: Record<string, unknown> };
  triggeredComponents: Record<string, unknown>[];
  score: number;
  device: Record<string, unknown>;
  acknowledged?: boolean;
  breachUrl?: string;
  [key: string]: unknown;
}

export interface DarktraceIncidentEvent {
  id: string;
  title: string;
  createdAt: number;
  acknowledged: boolean;
  pinned: boolean;
  category: string;
  aiaScore: number;
  groupScore: number;
  summary: string;
  periods: { start: number; end: number }[];
  breachDevices: Record<string, unknown>[];
  relatedBreaches: Record<string, unknown>[];
  incidentEventUrl?: string;
  [key: string]: unknown;
}

/** A 32-bit mix of (seed, index): cheap, stateless, deterministic. */
export function hash32(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ index, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

const ms = (value: number | Date | undefined): number | undefined => (value === undefined ? undefined : typeof value === 'number' ? value : value.getTime());

/** Indexes of a stream whose record time lies in [start, end] (inclusive) and before `until`. */
export function* streamIndexes(stream: RecordStream, seed: number, start: number, end: number, until: number): Generator<{ index: number; time: number }> {
  const from = ms(stream.from)!;
  const to = Math.min(ms(stream.to) ?? Number.POSITIVE_INFINITY, until + 1);
  const step = stream.everyMs;
  const first = Math.max(0, Math.floor((start - from) / step));
  const last = Math.floor((Math.min(end, to - 1) - from) / step);
  for (let index = first; index <= last; index++) {
    const time = from + index * step + (hash32(seed, index) % step);
    if (time >= start && time <= end && time < to) yield { index, time };
  }
}

const MODELS = [
  { name: 'Compromise::Watched Domain', pid: 559, category: 'Critical', priority: 5 },
  { name: 'Anomalous Connection::Data Sent to Rare Domain', pid: 312, category: 'Suspicious', priority: 3 },
  { name: 'Device::New User Agent', pid: 77, category: 'Informational', priority: 1 },
  { name: 'Antigena::Network::External Threat::Antigena Suspicious Activity Block', pid: 901, category: 'Critical', priority: 4 },
];

/** The generated breach of stream index `index`: pbid = index + 1, so pbids grow with time. */
export function makeBreach(seed: number, index: number, time: number, creationDelayMs: number, baseUrl: string): DarktraceModelBreach {
  const h = hash32(seed + 1, index);
  const model = MODELS[h % MODELS.length]!;
  const did = 1000 + (h % 500);
  const pbid = index + 1;
  const modelObject = { ...model, phid: 8000 + model.pid, uuid: `80010119-6d7f-0000-0305-${String(model.pid).padStart(12, '0')}`, compliance: false };
  return {
    commentCount: h % 3,
    pbid,
    time,
    creationTime: time + creationDelayMs,
    model: { then: modelObject, now: modelObject },
    triggeredComponents: [{ time, cbid: 10_000 + index, cid: model.pid * 10, chid: 50_000 + model.pid, size: 1 + (h % 40), threshold: 1, interval: 3600, logic: { data: { left: 'A', operator: 'AND', right: 'B' }, version: 'v0.1' }, metric: { mlid: 1, name: 'externalconnections', label: 'External Connections' } }],
    score: Math.round(((h % 1000) / 1000) * 1000) / 1000,
    device: { did, ip: `192.168.${16 + (h % 8)}.${1 + (did % 250)}`, sid: 148, hostname: `host-${did}`, devicelabel: `Device ${did}`, typename: 'desktop', typelabel: 'Desktop' },
    acknowledged: h % 7 === 0,
    breachUrl: `${baseUrl}/#modelbreach/${pbid}`,
  };
}

/** A uuid-shaped id, deterministic per (seed, index). */
export function uuidFor(seed: number, index: number): string {
  const hex = [0, 1, 2, 3].map((k) => hash32(seed + 7 + k, index).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const TITLES = ['Possible Hijack of AzureActiveDirectory Account', 'Suspicious Remote Desktop Activity', 'Unusual External Data Transfer', 'Scanning of Multiple Devices'];

export function makeIncident(seed: number, index: number, createdAt: number, baseUrl: string): DarktraceIncidentEvent {
  const h = hash32(seed + 3, index);
  const id = uuidFor(seed, index);
  return {
    summariser: 'AdvancedConnectionSummary',
    acknowledged: h % 9 === 0,
    pinned: h % 11 === 0,
    createdAt,
    attackPhases: [1 + (h % 5)],
    mitreTactics: ['initial-access'],
    title: TITLES[h % TITLES.length]!,
    id,
    children: [id],
    category: h % 3 === 0 ? 'critical' : 'suspicious',
    currentGroup: uuidFor(seed + 100, index),
    groupCategory: 'critical',
    groupScore: Math.round((h % 10_000) / 100) / 1,
    aiaScore: h % 101,
    summary: 'The device made unusual connections that the AI Analyst investigated.',
    periods: [{ start: createdAt - 600_000, end: createdAt }],
    breachDevices: [{ identifier: null, hostname: `host-${1000 + (h % 500)}`, ip: `10.0.${h % 256}.${1 + (h % 250)}`, mac: null, subnet: null, did: 1000 + (h % 500), sid: 1 }],
    relatedBreaches: [{ modelName: MODELS[h % MODELS.length]!.name, pbid: 1 + (h % 1000), threatScore: h % 100, timestamp: createdAt - 300_000 }],
    details: [],
    explanations: [],
    incidentEventUrl: `${baseUrl}/#aiaincidentevent/${id}`,
  };
}

/** A RESPOND/Network (Antigena) action as /antigena returns it. */
export interface DarktraceAntigenaAction {
  codeid: number;
  did: number;
  ip: string;
  action: string;
  label: string;
  detail: string;
  score: number;
  pbid: number | null;
  model: string;
  modeluuid: string;
  /** Epoch ms the action was created (it starts then, or once confirmed). */
  start: number;
  /** Epoch ms it ends; extending an action moves it. */
  expires: number;
  blocked: boolean;
  /** False while pending confirmation, true once active. */
  active: boolean;
  cleared: boolean;
  manual: boolean;
  triggerer: { username: string; reason: string } | null;
  [key: string]: unknown;
}

const ACTIONS = [
  { action: 'quarantineOutgoing', label: 'Block all outgoing traffic' },
  { action: 'connection', label: 'Block matching connections' },
  { action: 'pol', label: 'Enforce pattern of life' },
];

/** A model-triggered action for device `index`, active from `start` for an hour unless `fields` say otherwise. */
export function makeAction(seed: number, codeid: number, start: number): DarktraceAntigenaAction {
  const h = hash32(seed + 11, codeid);
  const kind = ACTIONS[h % ACTIONS.length]!;
  const model = MODELS[3]!;
  const did = 1000 + (h % 500);
  return {
    codeid,
    did,
    ip: `192.168.${16 + (h % 8)}.${1 + (did % 250)}`,
    ...kind,
    detail: '',
    score: Math.round(((h % 1000) / 1000) * 1000) / 1000,
    pbid: 1 + (h % 1000),
    model: model.name,
    modeluuid: `80010119-6d7f-0000-0305-${String(model.pid).padStart(12, '0')}`,
    start,
    expires: start + 3_600_000,
    blocked: true,
    active: true,
    cleared: false,
    manual: false,
    triggerer: null,
  };
}
