/**
 * Every collector of the repository, declared once. The demo, the benchmark and chaos harnesses, the
 * packaging, image and chart tests and the release checks derive their lists from here; what must stay a
 * static list (the GitHub workflow matrices, the Helm values and schema, the changesets group, the demo's
 * dependencies) is held against this by tooling/repo-checks/test/vendors.test.ts. Order: as the demo and the
 * reports show them.
 */
export interface Vendor {
  /** The folder under apps/ and packages/; the image is devo-collector-<name>, the chart's key collectors.<name>. */
  name: string;
  /** The vendor package and the name of its collector definition export. */
  package: string;
  definition: string;
  /** What it is, for people (demo and reports). */
  title: string;
  /**
   * `pull`: polls an HTTP API and keeps a checkpoint (a vendor simulator in tests; a StatefulSet in the chart).
   * `queue`: consumes a queue that holds its progress (moto in tests; a KEDA-scaled Deployment).
   */
  kind: 'pull' | 'queue';
}

export const VENDORS = [
  { name: 'lark', package: '@collector/lark', definition: 'larkCollector', title: 'Lark audit logs', kind: 'pull' },
  { name: 'o365-emt', package: '@collector/o365-emt', definition: 'o365EmtCollector', title: 'Microsoft 365 message trace', kind: 'pull' },
  { name: 'darktrace', package: '@collector/darktrace', definition: 'darktraceCollector', title: 'Darktrace', kind: 'pull' },
  { name: 'proofpoint-tap', package: '@collector/proofpoint-tap', definition: 'proofpointTapCollector', title: 'Proofpoint TAP', kind: 'pull' },
  { name: 'aws-sqs', package: '@collector/aws-sqs', definition: 'awsSqsCollector', title: 'AWS S3 via SQS', kind: 'queue' },
] as const satisfies readonly Vendor[];

export type VendorName = (typeof VENDORS)[number]['name'];

export const VENDOR_NAMES: readonly VendorName[] = VENDORS.map((v) => v.name);

/** The entry of `name`; throws naming the known ones. */
export function vendor(name: string): Vendor {
  const found = VENDORS.find((v) => v.name === name);
  if (!found) throw new Error(`unknown collector ${name}; known: ${VENDOR_NAMES.join(', ')}`);
  return found;
}

/**
 * The collector definition out of a vendor package's module (`await import(vendor.package)`: the import is
 * the caller's, so that the package resolves from the caller's own dependencies).
 */
export function definitionOf<T>(vendor: Vendor, module: Record<string, unknown>): T {
  const definition = module[vendor.definition];
  if (!definition) throw new Error(`${vendor.package} has no export ${vendor.definition}`);
  return definition as T;
}
