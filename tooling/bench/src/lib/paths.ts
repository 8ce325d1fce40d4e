import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (tooling/bench/{src,dist}/lib → ../../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A collector's built executable; `root` is another checkout's root (a baseline build measured in the same session). */
export function appMain(vendor: string, root = REPO_ROOT): string {
  return join(root, 'apps', vendor, 'dist', 'main.js');
}
