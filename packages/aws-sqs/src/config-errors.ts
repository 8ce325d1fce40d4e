import type { awsSqsErrors } from './errors.js';

/**
 * The errors the pipeline compilation throws (InitVariablesError 9–15), bound by `errors.ts` when it loads.
 * Through this indirection `pipeline.ts` and `rules.ts` do not import the SDK: a processing thread compiles
 * the pipelines the main thread already validated (so it never throws these) without loading the SDK,
 * which would cost each thread some 30 MB and 150 ms.
 */
let bound: typeof awsSqsErrors | undefined;

export function bindConfigErrors(errors: typeof awsSqsErrors): void {
  bound = errors;
}

export function configErrors(): typeof awsSqsErrors {
  if (!bound) throw new Error('a pipeline failed to compile in a processing thread');
  return bound;
}
