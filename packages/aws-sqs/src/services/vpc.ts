import { sqsService } from './sqs-service.js';

/** VPC Flow Logs text files (header line names the fields); CloudWatch-via-Firehose documents are accepted too. */
export const vpcService = sqsService({ format: 'vpc', tag: 'cloud.aws.vpc.flowlogs' });
