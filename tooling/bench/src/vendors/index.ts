import { awsSqsAdapter } from './aws-sqs.js';
import { darktraceAdapter } from './darktrace.js';
import { larkAdapter } from './lark.js';
import { o365EmtAdapter } from './o365-emt.js';
import { proofpointTapAdapter } from './proofpoint-tap.js';
import { VENDOR_NAMES, VENDORS, type VendorName } from '@collector/testkit';
import type { VendorAdapter, VendorSpecifics } from './types.js';

export type { VendorAdapter, VendorScenario } from './types.js';

const BY_VENDOR = { lark: larkAdapter, darktrace: darktraceAdapter, 'o365-emt': o365EmtAdapter, 'proofpoint-tap': proofpointTapAdapter, 'aws-sqs': awsSqsAdapter } satisfies Record<VendorName, VendorSpecifics>;

/** Every collector of the registry, driven through its built app (apps/<name>/dist/main.js). */
export const ADAPTERS: VendorAdapter[] = VENDORS.map((v) => ({ ...BY_VENDOR[v.name], name: v.name }));

export function selectAdapters(only: string | undefined): VendorAdapter[] {
  if (!only) return ADAPTERS;
  const names = only.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !ADAPTERS.some((a) => a.name === n));
  if (unknown.length) throw new Error(`unknown collector(s): ${unknown.join(', ')}; known: ${VENDOR_NAMES.join(', ')}`);
  return ADAPTERS.filter((a) => names.includes(a.name));
}

/** Stops every adapter's shared resources (moto): the harness and the tests call it once at the end. */
export async function shutdownAdapters(): Promise<void> {
  await Promise.all(ADAPTERS.map((a) => a.shutdown?.().catch(() => undefined) ?? Promise.resolve()));
}
