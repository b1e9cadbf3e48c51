import type { DeliveryStatus } from '../messaging/delivery.js';

/**
 * Twilio's Message statuses in Verity's words. "queued" stays queued (Twilio holds it);
 * "sending"/"sent" mean it left for the carrier; "read" (WhatsApp/RCS) implies delivered.
 */
const messageStatuses: Record<string, DeliveryStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/**
 * Twilio's Call statuses: the call is "sent" while it rings or runs; a completed call was
 * answered and the code read out; busy or unanswered calls did not reach the member.
 */
const callStatuses: Record<string, DeliveryStatus> = {
  queued: 'sent',
  initiated: 'sent',
  ringing: 'sent',
  'in-progress': 'sent',
  completed: 'delivered',
  busy: 'undelivered',
  'no-answer': 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/** Null for a status Verity does not track (e.g. "receiving" on inbound messages). */
export function messageDeliveryStatus(twilioStatus: string): DeliveryStatus | null {
  return Object.hasOwn(messageStatuses, twilioStatus) ? messageStatuses[twilioStatus]! : null;
}

export function callDeliveryStatus(twilioStatus: string): DeliveryStatus | null {
  return Object.hasOwn(callStatuses, twilioStatus) ? callStatuses[twilioStatus]! : null;
}
