import { createRequire } from 'node:module';
import { defineCollector, defineInput } from '@collector/sdk';
import { CATALOGUE } from './catalogue.js';
import { createSession, type AwsSession } from './client.js';
import { credentialsSchema, inputOptionsSchema } from './config.js';
import { awsSqsErrors } from './errors.js';
import { sqsService } from './services/sqs-service.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Names an operator may still write for a catalogue service (Devo's older pages). */
export const SERVICE_ALIASES: Record<string, keyof typeof CATALOGUE> = {
  aws_sqs_fdr_large: 'aws_sqs_fdr',
};

/** The AWS SQS collector: S3 objects announced through SQS (S3, SNS or EventBridge notifications). */
export const awsSqsCollector = defineCollector({
  name: 'aws_sqs_collector',
  // The queue keeps each message until we delete it: that is the durable copy, never a local spool.
  durableSource: true,
  version,
  inputs: [
    defineInput<AwsSession>({
      name: 'sqs_collector',
      credentials: credentialsSchema,
      options: inputOptionsSchema,
      obfuscate: ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'aws_external_id'],
      setupModuleName: 'AWSsqsPullerSetup',
      setup: createSession,
      errors: awsSqsErrors,
      services: Object.fromEntries([
        ...Object.entries(CATALOGUE).map(([name, declaration]) => [name, sqsService(declaration)]),
        ...Object.entries(SERVICE_ALIASES).map(([alias, name]) => [alias, sqsService(CATALOGUE[name]!)]),
      ]),
    }),
  ],
});

export { AwsSession, createSession } from './client.js';
export { CATALOGUE } from './catalogue.js';
export { awsSqsErrors } from './errors.js';
export { PROCESSORS } from './processors/index.js';
export { ServicePipeline, UNKNOWN_TAG, PIPELINE_KEYS, type ServiceDeclaration, type PipelineSpec, type ObjectPlan } from './pipeline.js';
export { buildCredentialChain, AssumedRoleProvider, type AwsCredentials, type CredentialProvider } from './credentials.js';
export { ProcessingPool } from './processing-pool.js';
export { QueueWorker, MD5_TAG, type CycleResult, type QueueWorkerDeps } from './queue-worker.js';
export { resolveOptions, regionFromQueueUrl } from './options.js';
export { DEFAULTS, effectiveCredentials, type SqsServiceOptions } from './config.js';
export { parseNotification, decodeS3Key, directEvent, type Notification, type ObjectRef } from './notifications.js';
export { type OutEvent, type ObjectDecoder } from './formats/decoders.js';
export { JsonValueScanner, JsonStructureError } from './formats/json-scanner.js';
export { pullingIdSuffix } from './formats/pulling-id.js';
export { VPC_V2_FIELDS } from './formats/vpc-flow.js';
export { ALB_FIELDS, ALB_CONNECTION_FIELDS, CLASSIC_ELB_FIELDS, S3_ACCESS_FIELDS } from './formats/elb.js';
export { readParquet } from './processors/parquet.js';
export { isParquetHead } from './formats/parquet-magic.js';
