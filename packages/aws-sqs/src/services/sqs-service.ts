import { defineService, type ServiceDefinition } from '@collector/sdk';
import type { AwsSession } from '../client.js';
import { serviceOptionsSchema } from '../config.js';
import type { FormatName } from '../formats/decoders.js';
import { pullingIdSuffix } from '../formats/serialize.js';
import { resolveOptions } from '../options.js';
import { queueError, QueueWorker } from '../queue-worker.js';

export interface SqsServiceSpec {
  format: FormatName;
  /** The default Devo tag (`override_devo_tag` replaces it). */
  tag: string;
  /** Object keys never read, e.g. CloudTrail digest files. */
  skipKey?(key: string): boolean;
}

/**
 * Every service is the same queue consumer with a different object format. A pull cycle receives until
 * the queue is drained (or the collector stops); nothing is checkpointed: the queue is the state.
 */
export function sqsService(spec: SqsServiceSpec): ServiceDefinition<AwsSession> {
  return defineService<AwsSession>({
    tag: spec.tag,
    moduleName: 'AWSsqsPuller',
    options: serviceOptionsSchema,
    requestPeriodSeconds: 5,
    stateless: true,
    init(ctx) {
      const o = resolveOptions(ctx.options, ctx.input, ctx.path);
      if (o.doNotSend && o.ackMessages) ctx.log.warning('do_not_send and ack_messages are both true: messages are deleted without their events being sent');
      if (!o.ackMessages) ctx.log.warning('ack_messages is false: messages are never deleted and will be received again after their visibility timeout');
    },
    async *pull(ctx) {
      const options = resolveOptions(ctx.options, ctx.input, ctx.path);
      const worker = new QueueWorker({
        sqs: ctx.client.sqs(options.region, options.endpointUrl),
        s3: ctx.client.s3(options.region, options.endpointUrl),
        options,
        format: spec.format,
        log: ctx.log,
        signal: ctx.signal,
        emit: (events, tag) => ctx.emit(events, tag),
        suffix: pullingIdSuffix(ctx.pullingId, ctx.input['environment'] as string | undefined),
        ...(spec.skipKey ? { skipKey: spec.skipKey } : {}),
        path: ctx.path,
        ...(ctx.metrics ? { metrics: ctx.metrics } : {}),
      });
      const started = Date.now();
      const r = await worker.runCycle();
      if (r.received > 0) {
        const seconds = (Date.now() - started) / 1000;
        ctx.log.info(
          `Processed ${r.received} message(s): ${r.objects} object(s), ${r.events} event(s), ${(r.bytes / 1048576).toFixed(1)} MB in ${seconds.toFixed(3)} s; ` +
            `deleted ${r.deleted}, released ${r.released}, failed ${r.failed}, poison ${r.poison}, test events ${r.testEvents}, skipped objects ${r.skippedObjects}`,
        );
      }
      yield* [];
    },
    async probe(ctx) {
      const options = resolveOptions(ctx.options, ctx.input, ctx.path);
      try {
        await ctx.client.probeQueue(options.queueUrl, options.region, options.endpointUrl);
      } catch (error) {
        throw queueError(error, 'GetQueueAttributes', options.queueUrl, ctx.path);
      }
    },
  });
}
