import { siemService } from './siem-service.js';

/** `/v2/siem/messages/delivered`: messages delivered in the period that contained a known threat (shared pool). */
export const messagesDeliveredService = siemService({
  name: 'messagesDelivered',
  path: '/v2/siem/messages/delivered',
  pool: 'default',
  tag: 'mail.proofpoint.tapsiem_v2.messagesdelivered',
});
