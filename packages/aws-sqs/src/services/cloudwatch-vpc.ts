import { sqsService } from './sqs-service.js';

export const cloudwatchVpcService = sqsService({ format: 'cloudwatch_vpc', tag: 'cloud.aws.vpc.flowlogs' });
