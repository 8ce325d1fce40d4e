import { sqsService } from './sqs-service.js';

export const jsonService = sqsService({ format: 'json', tag: 'cloud.aws.sqs.json' });
