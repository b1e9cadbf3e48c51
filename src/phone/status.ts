import type { Kysely } from 'kysely';
import type { DB, MemberAccount } from '../platform/db/schema.js';
import type { AccountView } from '../accounts/view.js';
import { deliveryReport, type DeliveryStatus } from '../platform/messaging/delivery.js';
import { MAX_ATTEMPTS, MAX_SENDS } from './codes.js';
import type { RefreshDelivery } from './late-delivery.js';
import { findPending, findVerifiedPhone } from './queries.js';

export interface DeliveryView {
  status: DeliveryStatus;
  updatedAt: string;
  advice: string;
  errorCode: string | null;
}

export interface PendingView {
  id: string;
  phone: string;
  channel: 'sms' | 'voice';
  voiceOnly: boolean;
  expiresAt: string;
  expired: boolean;
  resendAfter: string;
  /** Seconds until a new code may be asked for (0 = now); drives the page's countdown. */
  resendIn: number;
  attemptsLeft: number;
  sendsLeft: number;
  delivery: DeliveryView | null;
}

/** GET /v1/me/phone: the verified number, and the verification in progress. */
export interface PhoneStatus {
  number: string | null;
  verified: boolean;
  verifiedAt: string | null;
  pending: PendingView | null;
}

/**
 * What to tell a member waiting for a code, by what the provider last said. A landline
 * (`voiceOnly`) cannot take a text, so it is never offered one.
 */
export function deliveryAdvice(status: DeliveryStatus, channel: 'sms' | 'voice', voiceOnly = false): string {
  const what = channel === 'voice' ? 'call' : 'text message';
  switch (status) {
    case 'queued':
    case 'sent':
      return channel === 'voice'
        ? 'We are calling you now. Answer the call to hear your code; it can take a minute.'
        : 'Your code is on its way. It can take a minute to arrive.';
    case 'delivered':
      return channel === 'voice' ? 'The call was answered. Enter the code you heard.' : 'Your code was delivered. Enter the code.';
    case 'undelivered':
    case 'failed':
      if (voiceOnly) {
        return 'We could not reach you by phone call. Check that the number is right and that you can answer the line, then try again, or use a mobile number instead.';
      }
      return (
        `We could not deliver the ${what}. Check that the number is right, and that your phone has signal ` +
        `(and roaming is on if you are abroad). Then ` +
        (channel === 'voice' ? 'try again, or ask for a text message instead.' : 'try again, or ask for a voice call instead.')
      );
  }
}

/** The status as stored; `refresh` may first ask the provider about a late delivery. */
export async function phoneStatus(db: Kysely<DB>, now: Date, accountId: string, refresh?: RefreshDelivery): Promise<PhoneStatus> {
  const [verified, pending] = await Promise.all([findVerifiedPhone(db, accountId), findPending(db, accountId)]);
  let pendingView: PendingView | null = null;
  if (pending) {
    let report = pending.outbox_id ? await deliveryReport(db, pending.outbox_id) : null;
    if (report && pending.outbox_id && refresh && (await refresh(pending.outbox_id, report))) report = await deliveryReport(db, pending.outbox_id);
    pendingView = {
      id: pending.id,
      phone: pending.e164,
      channel: pending.channel,
      voiceOnly: pending.voice_only,
      expiresAt: pending.expires_at.toISOString(),
      expired: pending.expires_at <= now,
      resendAfter: pending.resend_after.toISOString(),
      resendIn: Math.max(0, Math.ceil((pending.resend_after.getTime() - now.getTime()) / 1000)),
      attemptsLeft: Math.max(0, MAX_ATTEMPTS - pending.attempts),
      sendsLeft: Math.max(0, MAX_SENDS - pending.sends),
      delivery: report
        ? {
            status: report.status,
            updatedAt: report.updatedAt.toISOString(),
            advice: deliveryAdvice(report.status, pending.channel, pending.voice_only),
            errorCode: report.errorCode,
          }
        : null,
    };
  }
  return {
    number: verified?.e164 ?? pending?.e164 ?? null,
    verified: !!verified,
    verifiedAt: verified?.verified_at.toISOString() ?? null,
    pending: pendingView,
  };
}

/** The phone part of GET /v1/me: the verified number, else the one being verified. */
export async function phoneView(db: Kysely<DB>, account: MemberAccount, view: AccountView): Promise<void> {
  const verified = await findVerifiedPhone(db, account.id);
  if (verified) {
    view.phone = { number: verified.e164, verified: true };
    return;
  }
  const pending = await findPending(db, account.id);
  view.phone = pending ? { number: pending.e164, verified: false } : null;
}
