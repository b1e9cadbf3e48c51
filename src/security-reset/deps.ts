import type { Kysely } from 'kysely';
import type { AccountService } from '../accounts/service.js';
import type { Clock } from '../platform/clock.js';
import { decrypt, hmac, type Random } from '../platform/crypto.js';
import type { Db } from '../platform/db/database.js';
import type { DB } from '../platform/db/schema.js';
import type { Jobs } from '../platform/jobs.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { Secrets } from '../platform/secrets.js';
import type { PhoneService } from '../phone/service.js';
import type { SessionService } from '../sessions/service.js';
import type { SupportService } from '../support/service.js';
import type { TwoStepService } from '../twostep/service.js';
import type { ResetRow } from './queries.js';

export interface SecurityResetDeps {
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  limiter: RateLimiter;
  outbox: Outbox;
  jobs: Jobs;
  accounts: AccountService;
  sessions: SessionService;
  twoStep: TwoStepService;
  phone: PhoneService;
  support: SupportService;
  /** The forgot-password machinery: a single-use link to set a password (recovery/service.ts). */
  recovery: { resetLinkFor(trx: Kysely<DB>, accountId: string, then?: 'two-step'): Promise<string> };
  publicUrl: string;
  /** SECURITY_RESET_WAIT_HOURS: from approval to effect. */
  waitHours: number;
}

export const keyHash = (deps: SecurityResetDeps, key: string) => hmac(deps.secrets.tokenKey, 'security_reset_key', key).toString('hex');
export const cancelHash = (deps: SecurityResetDeps, token: string) => hmac(deps.secrets.tokenKey, 'security_reset_cancel', token).toString('hex');

/** The requester's status link, rebuilt from the sealed key (only its hash is searchable). */
export function statusLink(deps: SecurityResetDeps, row: ResetRow): string {
  const key = decrypt(deps.secrets.encryptionKey, row.key_sealed);
  return `${deps.publicUrl}/recover/security-reset/${row.case_id}?key=${encodeURIComponent(key)}`;
}

/** An e-mail to the requester's contact address about their request, in the caller's transaction. */
export async function tellRequester(
  deps: SecurityResetDeps,
  trx: Kysely<DB>,
  row: ResetRow,
  message: { headline: string; message: string; note?: string | undefined },
): Promise<void> {
  await deps.outbox.enqueue(trx, {
    channel: 'email',
    to: row.contact_email,
    template: 'security-reset-update',
    data: { fullName: row.full_name, headline: message.headline, message: message.message, note: message.note ?? '', link: statusLink(deps, row) },
  });
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
