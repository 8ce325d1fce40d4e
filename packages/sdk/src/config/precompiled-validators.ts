import type { ValidateFunction } from 'ajv';

/**
 * Config validators compiled at build time, by the JSON of their schema (config-validator.ts). Empty here: an
 * app's bundle replaces this module with its collector's (tooling/app-bundle/bundle-app.mjs).
 */
export const precompiledValidators: ReadonlyMap<string, ValidateFunction> = new Map();
