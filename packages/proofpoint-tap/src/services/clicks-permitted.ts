import { siemService } from './siem-service.js';

/** `/v2/siem/clicks/permitted`: clicks to malicious URLs permitted in the period (its own pool of 1800 a day). */
export const clicksPermittedService = siemService({
  name: 'clicksPermitted',
  path: '/v2/siem/clicks/permitted',
  pool: 'clicksPermitted',
  tag: 'mail.proofpoint.tapsiem_v2.clickspermitted',
});
