import type { Kysely } from 'kysely';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/database.js';
import type { AccountRow, DB } from '../platform/db/schema.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import type { RateLimiter } from '../platform/ratelimit.js';

/**
 * Failed sign-ins of one account from every source (signin_account_failures). Past the
 * threshold nothing locks, since a botnet could then lock the owner out; instead a right
 * password also needs a code e-mailed to the account, and the member is told once.
 */
export class AccountPressure {
  constructor(private readonly deps: { db: Db; clock: Clock; limiter: RateLimiter; outbox: Outbox; publicUrl: string }) {}

  async failed(account: AccountRow, meta: RequestMeta): Promise<void> {
    const { db, clock, limiter, outbox, publicUrl } = this.deps;
    const hit = await limiter.hit('signin_account_failures', account.id);
    // Told once, by the failure that reaches the threshold (each reserves its own count).
    if (hit.count !== hit.limit) return;
    await db.transaction().execute(async (trx: Kysely<DB>) => {
      const now = clock.now();
      await recordAudit(trx, now, { event: 'signin.many_failures', accountId: account.id, meta, details: { failures: hit.count } });
      await outbox.enqueue(trx, {
        channel: 'email',
        to: account.email,
        template: 'signin-failures',
        data: { username: account.username, count: hit.count, resetLink: `${publicUrl}/recover/password` },
      });
    });
    outbox.wake();
  }

  /** Whether a right password also needs an e-mailed code now. */
  async underAttack(accountId: string): Promise<boolean> {
    return (await this.deps.limiter.peek('signin_account_failures', accountId)).exceeded;
  }
}
