import { siemService } from './siem-service.js';

/** `/v2/siem/clicks/blocked`: clicks to malicious URLs blocked in the period (shared pool). */
export const clicksBlockedService = siemService({
  name: 'clicksBlocked',
  path: '/v2/siem/clicks/blocked',
  pool: 'default',
  tag: 'mail.proofpoint.tapsiem_v2.clicksblocked',
});
