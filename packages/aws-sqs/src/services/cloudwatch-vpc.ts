import { sqsService } from './sqs-service.js';

/** VPC Flow Logs through CloudWatch Logs → Firehose: concatenated documents, one event per `logEvents` element. */
export const cloudwatchVpcService = sqsService({ format: 'cloudwatch_vpc', tag: 'cloud.aws.vpc.flowlogs' });
