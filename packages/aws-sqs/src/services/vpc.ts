import { sqsService } from './sqs-service.js';

export const vpcService = sqsService({ format: 'vpc', tag: 'cloud.aws.vpc.flowlogs' });
