import type { Kysely } from 'kysely';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import { addSeconds, type Clock } from '../platform/clock.js';
import { randomToken, type Random } from '../platform/crypto.js';
import { isUniqueViolation, type Db } from '../platform/db/database.js';
import type { DB } from '../platform/db/schema.js';
import { AppError, invalid, type FieldError } from '../platform/errors.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import { notMeLink } from '../platform/not-me.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import type { Secrets } from '../platform/secrets.js';
import { tokenHash, tokenLifetimes } from '../platform/tokens.js';
import * as q from './queries.js';
import { checkEmail, normalizeEmail } from './rules.js';

/** How long the old address can undo a change with its "this wasn't me" link. */
export const EMAIL_REVERT_DAYS = 7;

export interface EmailChangeDeps {
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  limiter: RateLimiter;
  outbox: Outbox;
  publicUrl: string;
}

/**
 * Changing the e-mail address: the new address confirms by a link before it takes effect;
 * then the old one is told, with a link that locks the account and puts the old address
 * back for 7 days. The unique index on live addresses settles a race for one address.
 */
export class EmailChanges {
  constructor(private readonly deps: EmailChangeDeps) {}

  async request(accountId: string, email: string, meta: RequestMeta): Promise<void> {
    const { db, clock, limiter, outbox } = this.deps;
    const newEmail = normalizeEmail(email);
    const errors: FieldError[] = [];
    checkEmail(newEmail, errors);
    if (errors.length) throw invalid(errors);
    const account = await q.findAccountById(db, accountId);
    if (!account || account.status !== 'active') throw new AppError('not_found');
    if (account.email.toLowerCase() === newEmail.toLowerCase()) {
      throw invalid([{ path: '/email', message: 'This is already your e-mail address.' }]);
    }
    if (await q.emailInUse(db, newEmail)) throw new AppError('email_taken');
    await limiter.consume('email_change_account', accountId);
    const now = clock.now();
    const token = randomToken(this.deps.random);
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('email_changes').set({ cancelled_at: now }).where('account_id', '=', accountId).where('confirmed_at', 'is', null).where('cancelled_at', 'is', null).execute();
      await trx
        .insertInto('email_changes')
        .values({
          account_id: accountId,
          old_email: account.email,
          new_email: newEmail,
          confirm_token_hash: tokenHash(this.deps.secrets.tokenKey, 'email_change', token),
          created_at: now,
          expires_at: addSeconds(now, tokenLifetimes.email_change),
        })
        .execute();
      await recordAudit(trx, now, { event: 'email.change_requested', accountId, meta, details: { to: newEmail } });
      await outbox.enqueue(trx, {
        channel: 'email',
        to: newEmail,
        template: 'email-change-confirm',
        data: { username: account.username, link: `${this.deps.publicUrl}/account/email/confirm?token=${encodeURIComponent(token)}` },
      });
    });
    outbox.wake();
  }

  /** The link from the new address: the change takes effect, and the old address is told. */
  async confirm(token: string, meta: RequestMeta): Promise<string> {
    const { db, clock, outbox, secrets } = this.deps;
    if (token.length > 200) throw new AppError('token_invalid');
    const now = clock.now();
    try {
      const accountId = await db.transaction().execute(async (trx) => {
        const change = await trx
          .updateTable('email_changes')
          .set({ confirmed_at: now })
          .where('confirm_token_hash', '=', tokenHash(secrets.tokenKey, 'email_change', token))
          .where('confirmed_at', 'is', null)
          .where('cancelled_at', 'is', null)
          .where('expires_at', '>', now)
          .returningAll()
          .executeTakeFirst();
        const account = change ? await q.findAccountById(trx, change.account_id) : undefined;
        if (!change || !account || account.status !== 'active' || account.email !== change.old_email) throw new AppError('token_invalid');
        await q.updateAccount(trx, account.id, { email: change.new_email, email_verified_at: now, updated_at: now });
        const notMe = await notMeLink(trx, { key: secrets.tokenKey, random: this.deps.random, now, accountId: account.id, publicUrl: this.deps.publicUrl });
        await trx.updateTable('email_changes').set({ not_me_token_hash: notMe.hash }).where('id', '=', change.id).execute();
        await recordAudit(trx, now, { event: 'email.changed', accountId: account.id, meta, details: { from: change.old_email, to: change.new_email } });
        await outbox.enqueue(trx, {
          channel: 'email',
          to: change.old_email,
          template: 'email-changed',
          data: { username: account.username, newEmail: change.new_email, notMeLink: notMe.link, days: EMAIL_REVERT_DAYS },
        });
        return account.id;
      });
      outbox.wake();
      return accountId;
    } catch (error) {
      if (isUniqueViolation(error, 'accounts_email_key')) throw new AppError('email_taken');
      throw error;
    }
  }

  /**
   * Puts the old address back, when a "this wasn't me" link came from the notice of a change
   * made in the last 7 days. In the caller's transaction (the not-me lock).
   */
  async revert(trx: Kysely<DB>, notMeHash: string, meta: RequestMeta): Promise<void> {
    const now = this.deps.clock.now();
    const change = await trx
      .updateTable('email_changes')
      .set({ reverted_at: now })
      .where('not_me_token_hash', '=', notMeHash)
      .where('reverted_at', 'is', null)
      .where('confirmed_at', '>', addSeconds(now, -EMAIL_REVERT_DAYS * 24 * 3600))
      .returningAll()
      .executeTakeFirst();
    if (!change) return;
    const taken = await q.emailInUse(trx, change.old_email);
    const account = await q.findAccountById(trx, change.account_id);
    if (!account || taken || account.email !== change.new_email) return;
    await q.updateAccount(trx, account.id, { email: change.old_email, updated_at: now });
    await recordAudit(trx, now, { event: 'email.change_reverted', accountId: account.id, meta, details: { from: change.new_email, to: change.old_email } });
  }
}
