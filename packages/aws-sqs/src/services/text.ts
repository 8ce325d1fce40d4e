import { sqsService } from './sqs-service.js';

/** Any text: one event per line, as is. */
export const textService = sqsService({ format: 'text', tag: 'cloud.aws.sqs.text' });
