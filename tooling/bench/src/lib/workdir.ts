import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Devo working directory (config/, state/) with the config written as config/config.yaml (JSON is YAML). */
export function makeWorkDir(prefix: string, config: Record<string, unknown>, dir?: string): { dir: string; configFile: string } {
  const workDir = dir ?? mkdtempSync(join(tmpdir(), `bench-${prefix}-`));
  mkdirSync(join(workDir, 'config'), { recursive: true });
  const configFile = join(workDir, 'config', 'config.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return { dir: workDir, configFile };
}

/** Globals added to every collector's config (`--globals`): e.g. a delivery setting measured against its default. */
let extraGlobals: Record<string, unknown> = {};

export function setExtraGlobals(globals: Record<string, unknown>): void {
  extraGlobals = globals;
}

/** Globals every harness run uses: filesystem state under state/, no metrics server, and the `--globals` ones. */
export function benchGlobals(): Record<string, unknown> {
  return { persistence: { type: 'filesystem', config: { directory_name: 'state' } }, http_server: { enabled: false }, ...extraGlobals };
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
