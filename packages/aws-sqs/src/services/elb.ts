import { sqsService } from './sqs-service.js';

/** Application, Classic and Network (TLS) Load Balancer access logs: one named JSON object per line. */
export const elbService = sqsService({ format: 'elb', tag: 'web.aws.elb.access' });
