import { sqsService } from './sqs-service.js';

export const textService = sqsService({ format: 'text', tag: 'cloud.aws.sqs.text' });
