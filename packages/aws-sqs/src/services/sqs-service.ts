import { defineService, type ServiceDefinition } from '@collector/sdk';
import type { AwsSession } from '../client.js';
import { serviceOptionsSchema } from '../config.js';
import { pullingIdSuffix } from '../formats/pulling-id.js';
import { resolveOptions } from '../options.js';
import { ServicePipeline, type ServiceDeclaration } from '../pipeline.js';
import { processingPool } from '../processing-pool.js';
import { queueError, QueueWorker } from '../queue-worker.js';

/** The account of a queue URL (`https://sqs.<region>.amazonaws.com/<account>/<queue>`), for `<SQS_ACCID>`. */
function accountOf(queueUrl: string): string {
  return new URL(queueUrl).pathname.split('/').filter(Boolean)[0] ?? 'unknown';
}

/**
 * Every service is the same queue consumer with a different declaration (its pipeline). A pull cycle
 * receives until the queue is drained (or the collector stops); nothing is checkpointed: the queue is the state.
 */
export function sqsService(declaration: ServiceDeclaration): ServiceDefinition<AwsSession> {
  const setup = (ctx: { options: Record<string, unknown>; input: Parameters<typeof resolveOptions>[1]; path: string }) => {
    const options = resolveOptions(ctx.options, ctx.input, ctx.path);
    const pipeline = ServicePipeline.resolve(declaration, ctx.options, { region: options.region, account: accountOf(options.queueUrl) }, ctx.path, options.vpcFields);
    return { options, pipeline };
  };
  return defineService<AwsSession>({
    tag: declaration.routing_template,
    moduleName: 'AWSsqsPuller',
    options: serviceOptionsSchema,
    requestPeriodSeconds: 5,
    stateless: true,
    init(ctx) {
      const { options: o, pipeline } = setup(ctx);
      if (o.doNotSend && o.ackMessages) ctx.log.warning('do_not_send and ack_messages are both true: messages are deleted without their events being sent');
      if (!o.ackMessages) {
        // The manual: "Leave false until testing complete". A production run with false re-reads every
        // message forever, so say it where nobody can miss it.
        ctx.log.warning(
          `ack_messages is false (TESTING MODE): no message is ever deleted; every message is received again after its visibility timeout (${o.visibilityTimeout} s) and its events are sent again. Set ack_messages: true for production.`,
        );
      }
      const routes = pipeline.routes.map((r) => `${r.pipeline.name} (${r.pipeline.processorName} → ${r.pipeline.template.text})`);
      ctx.log.info(`Pipeline: ${pipeline.main.processorName} → ${pipeline.main.template.text}${routes.length ? `; routes by key: ${routes.join(', ')}` : ''}`);
      ctx.log.info(o.processingThreads > 0 ? `Objects are decoded by ${o.processingThreads} processing thread(s) (processing_threads)` : 'Objects are decoded in the main thread (processing_threads: 0)');
    },
    async *pull(ctx) {
      const { options, pipeline } = setup(ctx);
      const worker = new QueueWorker({
        sqs: ctx.client.sqs(options.region, options.endpointUrl),
        s3: ctx.client.s3(options.region, options.endpointUrl),
        options,
        pipeline,
        pool: options.processingThreads > 0 ? processingPool(options.processingThreads) : undefined,
        log: ctx.log,
        signal: ctx.signal,
        emit: (events, tag) => ctx.emit(events, tag),
        suffix: pullingIdSuffix(ctx.pullingId, ctx.input['environment'] as string | undefined),
        path: ctx.path,
        ...(ctx.metrics ? { metrics: ctx.metrics } : {}),
      });
      const started = Date.now();
      const r = await worker.runCycle();
      if (r.received > 0) {
        const seconds = (Date.now() - started) / 1000;
        ctx.log.info(
          `Processed ${r.received} message(s): ${r.objects} object(s), ${r.events} event(s), ${(r.bytes / 1048576).toFixed(1)} MB in ${seconds.toFixed(3)} s; ` +
            `deleted ${r.deleted}, released ${r.released}, failed ${r.failed}, poison ${r.poison}, test events ${r.testEvents}, skipped objects ${r.skippedObjects}, filtered records ${r.filteredRecords}` +
            (options.ackMessages ? '' : ' (ack_messages is false: nothing deleted)'),
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
