import type { ValidateFunction } from 'ajv';

/**
 * Config validators compiled at build time, by the JSON of their schema (config-validator.ts). Empty here: an
 * app's bundle replaces this module with one whose `get` loads its collector's from `dist/config-validators.cjs`
 * and forgets the file (tooling/app-bundle/bundle-app.mjs), so only `get` may be used: the one validation at
 * start keeps the validator, not the daemon.
 */
export const precompiledValidators: Pick<ReadonlyMap<string, ValidateFunction>, 'get'> = new Map();
