import type { Db } from '../platform/db/database.js';

/** Which of these notice keys the account has dismissed. */
export async function dismissedKeys(db: Db, accountId: string, keys: string[]): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const rows = await db
    .selectFrom('notice_dismissals')
    .select('notice_key')
    .where('account_id', '=', accountId)
    .where('notice_key', 'in', keys)
    .execute();
  return new Set(rows.map((r) => r.notice_key));
}

/**
 * Records a dismissal (a second one of the same notice changes nothing) and forgets the
 * account's dismissals of notices the feed no longer holds, so rows stay bounded by the feed.
 */
export async function recordDismissal(db: Db, accountId: string, key: string, inFeed: string[], at: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('notice_dismissals')
      .values({ account_id: accountId, notice_key: key, dismissed_at: at })
      .onConflict((oc) => oc.columns(['account_id', 'notice_key']).doNothing())
      .execute();
    await trx.deleteFrom('notice_dismissals').where('account_id', '=', accountId).where('notice_key', 'not in', inFeed).execute();
  });
}
