import { seededRandom } from '../seeded-random.js';
/**
 * Deterministic Lark `AuditInfo` records (the shape of vendor-apis.md §1), generated from a seed so that the
 * demo and benchmarks can serve 100k+ events without fixtures.
 */
export interface LarkAuditInfo {
  event_id: string;
  unique_id: string;
  event_module: number;
  event_name: string;
  operator_type: number;
  operator_value: string;
  operator_tenant: string;
  /** Epoch seconds. */
  event_time: number;
  ip: string;
  audit_context: Record<string, unknown>;
  audit_detail: Record<string, string>;
  department_ids: string[];
  extend: Record<string, unknown>;
  objects: Record<string, unknown>[];
  operator_app: string;
  operator_app_name: string;
  recipients: Record<string, unknown>[];
  [key: string]: unknown;
}

const EVENT_NAMES: [number, string][] = [
  [1, 'space_create_doc'],
  [1, 'space_edit_doc'],
  [1, 'space_read_doc'],
  [2, 'im_create_chat'],
  [2, 'im_send_file'],
  [3, 'account_login'],
  [3, 'account_logout'],
  [4, 'vc_join_meeting'],
];


export interface GenerateAuditInfosOptions {
  count: number;
  /** Epoch seconds of the first and last event (inclusive). */
  fromSeconds: number;
  toSeconds: number;
  seed?: number;
  /** Prefix of unique_id, so several generated batches never collide. */
  idPrefix?: string;
}

/** `count` events spread evenly (with jitter) over [fromSeconds, toSeconds], ordered by event_time. */
export function generateAuditInfos(options: GenerateAuditInfosOptions): LarkAuditInfo[] {
  return [...auditInfoStream(options)];
}

/** The events of `generateAuditInfos`, one at a time (the simulator stores each as its text as it comes). */
export function* auditInfoStream(options: GenerateAuditInfosOptions): Generator<LarkAuditInfo> {
  const random = seededRandom(options.seed ?? 1);
  const span = Math.max(0, options.toSeconds - options.fromSeconds);
  const prefix = options.idPrefix ?? '7254';
  for (let i = 0; i < options.count; i++) {
    const [module, name] = EVENT_NAMES[Math.floor(random() * EVENT_NAMES.length)]!;
    const time = options.fromSeconds + (options.count > 1 ? Math.floor((span * i) / (options.count - 1)) : 0);
    yield makeAuditInfo({ uniqueId: `${prefix}${String(i).padStart(12, '0')}`, eventTime: time, eventModule: module, eventName: name, random });
  }
}

/** One record with the given identity and time; the rest is plausible filler. */
export function makeAuditInfo(spec: { uniqueId: string; eventTime: number; eventName?: string; eventModule?: number; random?: () => number }): LarkAuditInfo {
  const random = spec.random ?? seededRandom(spec.eventTime);
  const user = Math.floor(random() * 0xffffffff).toString(16).padStart(8, '0');
  const ip = `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
  return {
    event_id: `72540624${String(Math.floor(random() * 1e11)).padStart(11, '0')}`,
    unique_id: spec.uniqueId,
    event_module: spec.eventModule ?? 1,
    event_name: spec.eventName ?? 'space_edit_doc',
    operator_type: 1,
    operator_value: user,
    operator_tenant: 'F686619755',
    event_time: spec.eventTime,
    ip,
    audit_context: { terminal_type: 3, web_context: { IP: ip, user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)' } },
    audit_detail: { city: '', device_model: '', mc: '', os: '' },
    department_ids: ['0', `od-${user}`],
    extend: {},
    objects: [{ object_detail: {}, object_name: '', object_owner: '', object_type: '106', object_value: `Lwd1smp3nl01${user}` }],
    operator_app: '',
    operator_app_name: '',
    recipients: [],
  };
}
