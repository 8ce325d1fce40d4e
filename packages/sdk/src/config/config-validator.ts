import { createRequire } from 'node:module';
import type { Ajv, Options, ValidateFunction } from 'ajv';
import type { JsonSchema } from '../runtime/definitions.js';
import { precompiledValidators } from './precompiled-validators.js';

// One set of options for the validator compiled at start and the one compiled at build time, so both report
// the same errors. No type coercion: `override_devo_tag: 123` or a numeric `client_secret` is a config error,
// not a string (load-config.ts accepts the one looseness the manuals show, a quoted number).
const OPTIONS: Options = { useDefaults: true, allErrors: true, coerceTypes: false, strict: false };

/**
 * The validator of a collector's config schema. An app's bundle carries it compiled at build time (ajv's
 * standalone code, `configValidatorSource`), keyed by the schema's JSON: then ajv is never loaded, which saves
 * a collector's start ~70 ms of CPU and ~16 MiB of peak memory (docs/benchmarks.md, "Issue 20: start-up from
 * one bundle"). Anywhere else (a host of its own, the tests, a schema the build did not know) ajv compiles it
 * now.
 */
export function configValidator(schema: JsonSchema): ValidateFunction {
  return precompiledValidators.get(JSON.stringify(schema)) ?? newAjv({}).compile(schema);
}

/** Build time: the ES module source of `schema`'s validator (its default export), for an app's bundle. */
export function configValidatorSource(schema: JsonSchema): string {
  const ajv = newAjv({ code: { source: true, esm: true } });
  const standaloneCode = (createRequire(import.meta.url)('ajv/dist/standalone') as { default: (ajv: Ajv, validate: ValidateFunction) => string }).default;
  return standaloneCode(ajv, ajv.compile(schema));
}

// require(), not import: loaded only when a validator is compiled, never by a bundle that carries its own.
function newAjv(extra: Options): Ajv {
  const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  return new AjvClass({ ...OPTIONS, ...extra });
}
