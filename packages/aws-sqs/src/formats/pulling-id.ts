import { extendJsonObject } from '@collector/sdk';

/**
 * Events leave this package already serialised (a JSON object's text), because re-encoding a record the
 * vendor wrote as compact JSON would cost a parse and a stringify per event. The SDK passes strings through,
 * so the fields the SDK adds (`@devo_pulling_id`, `@devo_environment`) are appended here: computed once per
 * cycle from the SDK's own encoder, so the two can never disagree.
 */
export function pullingIdSuffix(pullingId: string, environment?: string): string {
  return extendJsonObject('{}', pullingId, environment).slice(1, -1);
}
