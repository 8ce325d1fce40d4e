import { snapshotService } from './snapshot.js';

/**
 * `flatten: true` turns the nested /status document into one level, as Devo's "flattening preprocessing"
 * of this service does: a nested object's keys are joined to its key with `_`, at every depth
 * (`{"probes": {"12": {"version": "6.1"}}}` → `{"probes_12_version": "6.1"}`), the separator Darktrace
 * itself uses in `networkInterfacesState_eth0`. Arrays and the values in them stay as they are; an
 * empty object disappears. Off by default: the event is then the document exactly as returned.
 */
export function flattenObject(value: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, child] of Object.entries(value)) {
    const name = prefix ? `${prefix}_${key}` : key;
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) flattenObject(child as Record<string, unknown>, name, out);
    else out[name] = child;
  }
  return out;
}

const flags = { includechildren: true, flatten: false } as const;

/** /status: the health of the instance and of its probes (`includechildren`), one snapshot a period. */
export const statusService = snapshotService({
  tag: 'edr.darktrace.respond.status',
  path: '/status',
  flags,
  params: (options) => [['includechildren', String(options['includechildren'])]],
  toEvent: (body, options) => (options['flatten'] === true ? flattenObject(body) : body),
});
