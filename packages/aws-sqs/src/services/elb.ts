import { sqsService } from './sqs-service.js';

export const elbService = sqsService({ format: 'elb', tag: 'web.aws.elb.access' });
