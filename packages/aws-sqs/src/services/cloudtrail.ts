import { sqsService } from './sqs-service.js';

/** CloudTrail log files: one event per element of `Records`; digest files (`CloudTrail-Digest/`) are skipped. */
export const cloudtrailService = sqsService({
  format: 'cloudtrail',
  tag: 'cloud.aws.cloudtrail.events',
  skipKey: (key) => key.includes('/CloudTrail-Digest/') || key.startsWith('CloudTrail-Digest/'),
});
