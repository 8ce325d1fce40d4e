import { siemService } from './siem-service.js';

/** `/v2/siem/messages/blocked`: messages blocked in the period that contained a known threat (shared pool). */
export const messagesBlockedService = siemService({
  name: 'messagesBlocked',
  path: '/v2/siem/messages/blocked',
  pool: 'default',
  tag: 'mail.proofpoint.tapsiem_v2.messagesblocked',
});
