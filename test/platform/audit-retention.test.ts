import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeAudit } from '../../src/platform/audit.js';
import { createTestApp, signUp, type TestApp } from '../helpers/app.js';

/** Audit retention (issue 15 item 5): AUDIT_RETENTION_DAYS on the injected clock, and the log otherwise still append-only. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const DAY = 86400;

async function eventsOf(accountId: string): Promise<number> {
  const row = await t.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('audit retention', () => {
  it('deletes events older than the retention, oldest first in batches, and nothing newer', async () => {
    expect(t.config.auditRetentionDays).toBe(400);
    const old = await signUp(t);
    // 2,500 more events of that first day: more than one batch of the sweep.
    await sql`INSERT INTO audit_events (account_id, event, details, created_at)
              SELECT ${old.id}::uuid, 'signin.succeeded', '{}'::jsonb, ${t.clock.now()}::timestamptz + (g || ' seconds')::interval
              FROM generate_series(1, 2500) AS g`.execute(t.db);
    const oldEvents = await eventsOf(old.id);
    expect(oldEvents).toBeGreaterThan(2500);

    t.clock.advanceSeconds(399 * DAY);
    const recent = await signUp(t);
    const recentEvents = await eventsOf(recent.id);
    expect(recentEvents).toBeGreaterThan(0);
    expect(await purgeAudit(t.db, t.clock, t.config.auditRetentionDays)).toBe(0);
    expect(await eventsOf(old.id)).toBe(oldEvents);

    t.clock.advanceSeconds(2 * DAY);
    expect(await purgeAudit(t.db, t.clock, t.config.auditRetentionDays)).toBe(oldEvents);
    expect(await eventsOf(old.id)).toBe(0);
    expect(await eventsOf(recent.id)).toBe(recentEvents);
  });

  it('still refuses every other change: a deletion without the cutoff, of a newer row, an update, a truncate', async () => {
    const member = await signUp(t);
    const id = (await t.db.selectFrom('audit_events').select('id').where('account_id', '=', member.id).executeTakeFirstOrThrow()).id;
    await expect(t.db.deleteFrom('audit_events').where('id', '=', id).execute()).rejects.toThrow(/append-only/);
    const longAgo = new Date(t.clock.now().getTime() - 1000 * DAY).toISOString();
    await expect(
      t.db.transaction().execute(async (trx) => {
        await sql`SELECT set_config('verity.audit_purge_before', ${longAgo}, true)`.execute(trx);
        await trx.deleteFrom('audit_events').where('id', '=', id).execute();
      }),
    ).rejects.toThrow(/append-only/);
    const future = new Date(t.clock.now().getTime() + DAY).toISOString();
    await expect(
      t.db.transaction().execute(async (trx) => {
        await sql`SELECT set_config('verity.audit_purge_before', ${future}, true)`.execute(trx);
        await trx.updateTable('audit_events').set({ ip: '6.6.6.6' }).where('id', '=', id).execute();
      }),
    ).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE audit_events`.execute(t.db)).rejects.toThrow(/append-only/);
    expect(await eventsOf(member.id)).toBeGreaterThan(0);
  });
});
