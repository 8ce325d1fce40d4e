import { awsSqsAdapter } from './aws-sqs.js';
import { darktraceAdapter } from './darktrace.js';
import { larkAdapter } from './lark.js';
import { o365EmtAdapter } from './o365-emt.js';
import { proofpointTapAdapter } from './proofpoint-tap.js';
import type { VendorAdapter } from './types.js';

export type { VendorAdapter, VendorScenario } from './types.js';

/** Every collector the harness drives through its built app (apps/<name>/dist/main.js). */
export const ADAPTERS: VendorAdapter[] = [larkAdapter, darktraceAdapter, o365EmtAdapter, proofpointTapAdapter, awsSqsAdapter];

export function selectAdapters(only: string | undefined): VendorAdapter[] {
  if (!only) return ADAPTERS;
  const names = only.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !ADAPTERS.some((a) => a.name === n));
  if (unknown.length) throw new Error(`unknown collector(s): ${unknown.join(', ')}; known: ${ADAPTERS.map((a) => a.name).join(', ')}`);
  return ADAPTERS.filter((a) => names.includes(a.name));
}

/** Stops every adapter's shared resources (moto): the harness and the tests call it once at the end. */
export async function shutdownAdapters(): Promise<void> {
  await Promise.all(ADAPTERS.map((a) => a.shutdown?.().catch(() => undefined) ?? Promise.resolve()));
}
