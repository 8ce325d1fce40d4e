/**
 * The errors the pipeline compilation throws (InitVariablesError 9–15), bound by `errors.ts` when it loads.
 * Through this indirection `pipeline.ts` and `rules.ts` do not import the SDK: a processing thread compiles
 * the pipelines the main thread already validated (so it never throws these) without loading the SDK,
 * which would cost each thread some 30 MB and 150 ms.
 */
let bound: ConfigErrors | undefined;

/**
 * The members of `awsSqsErrors` that compiling a pipeline throws, declared here by shape so that this module
 * does not import `errors.ts` (which imports it to bind them: a circle otherwise).
 */
export interface ConfigErrors {
  processor(details: { value: string; known: string; path: string }): Error;
  processorOption(details: { why: string; path: string }): Error;
  rule(details: { why: string; path: string }): Error;
  fileField(details: { why: string; path: string }): Error;
  template(details: { why: string; path: string }): Error;
  encoding(details: { value: string; path: string }): Error;
  recordMapping(details: { why: string; path: string }): Error;
}

export function bindConfigErrors(errors: ConfigErrors): void {
  bound = errors;
}

export function configErrors(): ConfigErrors {
  if (!bound) throw new Error('a pipeline failed to compile in a processing thread');
  return bound;
}
