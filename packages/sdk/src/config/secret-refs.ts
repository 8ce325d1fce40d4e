import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors/collector-error.js';

const REF = /\$\{(env|file):([^}]+)\}/g;

/**
 * Replaces `${env:NAME}` and `${file:PATH}` in every string of the config (relative files resolve against
 * the working directory), so secrets can live outside config.yaml. Calls `onResolved` with each replaced
 * value so the caller can treat it as a secret.
 */
export function resolveSecretRefs(value: unknown, path: string, baseDir: string, onResolved: (path: string, value: string) => void): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(REF, (_match, kind: string, name: string) => {
      let resolved: string;
      if (kind === 'env') {
        const env = process.env[name];
        if (env === undefined) throw new ConfigError(3, `Environment variable ${name} referenced by \${env:${name}} is not set`, { path });
        resolved = env;
      } else {
        const file = isAbsolute(name) ? name : resolve(baseDir, name);
        try {
          resolved = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        } catch (error) {
          throw new ConfigError(4, `Cannot read ${file} referenced by \${file:${name}}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { path });
        }
      }
      onResolved(path, resolved);
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveSecretRefs(v, `${path}[${i}]`, baseDir, onResolved));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveSecretRefs(v, path ? `${path}.${k}` : k, baseDir, onResolved);
    return out;
  }
  return value;
}
