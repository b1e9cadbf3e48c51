import type { PhoneVerificationRow } from '../platform/db/schema.js';
import * as codes from './codes.js';

export type PhoneChannel = 'sms' | 'voice';

/** What a started or resent verification looks like to the member. */
export interface VerificationView {
  id: string;
  phone: string;
  channel: PhoneChannel;
  expiresAt: string;
  resendAfter: string;
  attemptsLeft: number;
  sendsLeft: number;
  /** Set when we chose another channel than asked (a landline gets a call, not a text). */
  notice?: string;
}

const LANDLINE_NOTICE = "This number is a landline, which can't receive texts, so we are calling it and reading the code out instead.";

/** The channel a code goes by: a landline (`voiceOnly`) is always called, and told why. */
export function chooseChannel(asked: PhoneChannel | undefined, voiceOnly: boolean): { channel: PhoneChannel; notice?: string } {
  if (voiceOnly) return asked === 'voice' ? { channel: 'voice' } : { channel: 'voice', notice: LANDLINE_NOTICE };
  return { channel: asked ?? 'sms' };
}

export function toView(row: PhoneVerificationRow, notice?: string): VerificationView {
  return {
    id: row.id,
    phone: row.e164,
    channel: row.channel,
    expiresAt: row.expires_at.toISOString(),
    resendAfter: row.resend_after.toISOString(),
    attemptsLeft: Math.max(0, codes.MAX_ATTEMPTS - row.attempts),
    sendsLeft: Math.max(0, codes.MAX_SENDS - row.sends),
    ...(notice ? { notice } : {}),
  };
}
