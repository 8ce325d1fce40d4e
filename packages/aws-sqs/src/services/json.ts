import { sqsService } from './sqs-service.js';

/** Any JSON: NDJSON, arrays, concatenated documents; `Records` and CloudWatch `logEvents` are split. */
export const jsonService = sqsService({ format: 'json', tag: 'cloud.aws.sqs.json' });
