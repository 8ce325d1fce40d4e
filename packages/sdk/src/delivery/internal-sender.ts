import { onLogRecord, type LogRecord } from '../telemetry/logger.js';
import type { Delivery, DeliveryRecord } from './types.js';

export interface InternalSenderMeta {
  collectorName: string;
  collectorVersion: string;
  /** The image the collector runs from (`COLLECTOR_IMAGE`), null outside one, as the manuals show. */
  collectorImage: string | null;
  /** `globals.id`: the manuals' `job_id` (`not_used` by default). */
  jobId: string;
}

/** `2024-05-06T07:08:09.123000Z`: the DCSDK's `%Y-%m-%dT%H:%M:%S.%fZ` (microseconds). */
function dcsdkTime(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000Z`;
}

/**
 * The JSON the DCSDK's log_info/log_warning/... send (commons/collector_utils.py), spaced as Python's
 * json.dumps spaces it (`{"msg": "...", "time": ...}`), so the manuals' lines and greps match ours.
 */
export function internalLogRecord(record: LogRecord, meta: InternalSenderMeta): DeliveryRecord {
  const fields: [string, string | null][] = [
    ['msg', record.msg],
    ['time', dcsdkTime(record.time)],
    ['level', record.level],
    ['collector_name', meta.collectorName],
    ['collector_version', meta.collectorVersion],
    ['collector_image', meta.collectorImage],
    ['job_id', meta.jobId],
    ['input_name', record.inputName ?? null],
    ['service_name', record.serviceName ?? null],
    ['module_name', moduleNameOf(record.module)],
  ];
  return { tag: `devo.collectors.out.local.${record.level}`, message: pythonSpacedObject(fields), time: record.time };
}

/**
 * The manuals' `module_name` is the service's module (`LarkBasePuller`), for its setup's lines too; our
 * log lines name the module with its input and service (`LarkBasePullerSetup(lark_collector,lark#1,...)`).
 */
function moduleNameOf(module: string): string {
  return module.replace(/\(.*$/s, '').replace(/(?<=.)Setup$/, '');
}

/** `{"a": 1, "b": "x"}`: a flat JSON object with Python json.dumps' default separators. */
export function pythonSpacedObject(fields: readonly (readonly [string, string | null])[]): string {
  return `{${fields.map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(', ')}}`;
}

/**
 * Forwards the collector's own log lines to Devo as JSON on `devo.collectors.out.local.<level>` through the
 * `internal` sender service (only outputs that take it: devo_platform and syslog types). Lines are batched
 * per event-loop turn and never wait for the queue. The delivery layer's own lines (process
 * `OutputProcess`) are not forwarded: a failing output would otherwise feed itself. Returns a function that
 * stops forwarding.
 */
export function attachInternalLogs(delivery: Delivery, meta: InternalSenderMeta): () => void {
  const accepts = (delivery as { accepts?: (s: 'internal') => boolean }).accepts;
  if (accepts && !accepts.call(delivery, 'internal')) return () => undefined;
  let buffer: DeliveryRecord[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let detached = false;
  const flush = () => {
    scheduled = undefined;
    const records = buffer;
    buffer = [];
    if (records.length === 0 || detached) return;
    delivery.submit(records, 'internal').then(
      ({ delivered }) => delivered.catch(() => undefined),
      () => undefined,
    );
  };
  const unsubscribe = onLogRecord((record) => {
    if (detached || record.process === 'OutputProcess') return;
    buffer.push(internalLogRecord(record, meta));
    scheduled ??= setImmediate(flush);
  });
  return () => {
    if (scheduled) {
      clearImmediate(scheduled);
      flush();
    }
    detached = true;
    unsubscribe();
  };
}
