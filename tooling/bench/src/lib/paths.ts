import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (tooling/bench/{src,dist}/lib → ../../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export function appMain(vendor: string): string {
  return join(REPO_ROOT, 'apps', vendor, 'dist', 'main.js');
}
