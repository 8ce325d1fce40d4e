import { snapshotService } from './snapshot.js';

/** /summarystatistics: counts and bandwidth of the instance, one snapshot a period. */
export const summaryStatisticsService = snapshotService({
  tag: 'edr.darktrace.respond.summary',
  path: '/summarystatistics',
  params: () => [],
});
