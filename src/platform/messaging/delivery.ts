/**
 * What a member is told about a message's delivery: the outbox's own state until the
 * provider reports through its status callback, then the provider's latest word.
 */
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';

export interface DeliveryReport {
  status: DeliveryStatus;
  updatedAt: Date;
  /** The provider's error code when it reported one (e.g. Twilio 30003 "unreachable"). */
  errorCode: string | null;
}
