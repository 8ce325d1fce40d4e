import { createRequire } from 'node:module';
import { defineCollector, defineInput } from '@collector/sdk';
import { createSession, type AwsSession } from './client.js';
import { credentialsSchema, inputOptionsSchema } from './config.js';
import { remedies } from './errors.js';
import { cloudtrailService } from './services/cloudtrail.js';
import { cloudwatchVpcService } from './services/cloudwatch-vpc.js';
import { elbService } from './services/elb.js';
import { jsonService } from './services/json.js';
import { textService } from './services/text.js';
import { vpcService } from './services/vpc.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

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
      remedies,
      services: {
        aws_sqs_cloudtrail: cloudtrailService,
        aws_sqs_vpc: vpcService,
        aws_sqs_cloudwatch_vpc: cloudwatchVpcService,
        aws_sqs_elb: elbService,
        aws_sqs_json: jsonService,
        aws_sqs_text: textService,
      },
    }),
  ],
});

export { AwsSession, createSession } from './client.js';
export { buildCredentialChain, AssumedRoleProvider, type AwsCredentials, type CredentialProvider } from './credentials.js';
export { QueueWorker, MD5_TAG, type CycleResult, type QueueWorkerDeps } from './queue-worker.js';
export { resolveOptions, regionFromQueueUrl } from './options.js';
export { DEFAULTS, type SqsServiceOptions } from './config.js';
export { parseNotification, decodeS3Key, directEvent, type Notification, type ObjectRef } from './notifications.js';
export { createDecoder, type FormatName, type OutEvent, type ObjectDecoder } from './formats/decoders.js';
export { JsonValueScanner, JsonStructureError } from './formats/json-scanner.js';
export { pullingIdSuffix } from './formats/serialize.js';
export { VPC_V2_FIELDS } from './formats/vpc-flow.js';
export { ALB_FIELDS, CLASSIC_ELB_FIELDS } from './formats/elb.js';
