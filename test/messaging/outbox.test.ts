import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import type { Database } from '../../src/platform/db/database.js';
import { backoffSeconds, delivery } from '../../src/platform/messaging/outbox.js';
import { DevOutboxTransport } from '../../src/platform/messaging/transports/dev-outbox.js';
import { openTestDatabase, onPostgres } from '../helpers/database.js';
import { clearMessages, devCopies, makeOutbox, outboxRow, queue, ScriptedTransport, verifyEmail } from './support.js';

let database: Database;
let clock: ManualClock;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});
beforeEach(async () => {
  clock = new ManualClock();
  await clearMessages(database.db);
});

const secondsAhead = (at: Date) => (at.getTime() - clock.now().getTime()) / 1000;

describe('transactional outbox', () => {
  it('sends nothing for a message queued in a transaction that rolled back', async () => {
    const transport = new ScriptedTransport();
    const outbox = makeOutbox(database.db, clock, transport);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await outbox.enqueue(trx, verifyEmail('rolled@example.com'));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    const [committed] = await queue(database.db, outbox, [verifyEmail('kept@example.com')]);

    await outbox.drain();
    expect(transport.calls.map((c) => c.to)).toEqual(['kept@example.com']);
    expect(transport.ids()).toEqual([committed]);
    const rows = await database.db.selectFrom('outbox').select('recipient').execute();
    expect(rows.map((r) => r.recipient)).toEqual(['kept@example.com']);
  });

  it('does not lose a wake that arrives while the worker is finishing a run', async () => {
    const transport = new ScriptedTransport();
    const outbox = makeOutbox(database.db, clock, transport);
    // Queue a message (and wake) exactly while the worker looks for its next timer, after
    // its last claim: the moment a lost wake would leave it waiting for the 30 s backstop.
    const internals = outbox as unknown as { scheduleNext(): Promise<void> };
    const scheduleNext = internals.scheduleNext.bind(outbox);
    let late: string | undefined;
    internals.scheduleNext = async () => {
      if (!late) {
        [late] = await queue(database.db, outbox, [verifyEmail()]);
        outbox.wake();
      }
      return scheduleNext();
    };
    outbox.start();
    try {
      await outbox.settled();
      expect(late).toBeDefined();
      expect(transport.ids()).toEqual([late]);
    } finally {
      await outbox.stop();
    }
  });

  it('retries a failing hand-off with growing backoff and sends it on the third attempt', async () => {
    const transport = new ScriptedTransport(['fail', 'fail', 'accept']);
    const outbox = makeOutbox(database.db, clock, transport);
    const [id] = await queue(database.db, outbox, [verifyEmail()]);

    expect(await outbox.runOnce()).toBe(1);
    let row = await outboxRow(database.db, id!);
    expect(row).toMatchObject({ status: 'queued', attempts: 1, last_error: 'provider busy' });
    expect(secondsAhead(row.next_attempt_at)).toBe(2);

    // Not before its time.
    clock.advanceSeconds(1);
    expect(await outbox.runOnce()).toBe(0);
    clock.advanceSeconds(1);
    expect(await outbox.runOnce()).toBe(1);
    row = await outboxRow(database.db, id!);
    expect(row).toMatchObject({ status: 'queued', attempts: 2 });
    expect(secondsAhead(row.next_attempt_at)).toBe(4);

    clock.advanceSeconds(4);
    expect(await outbox.runOnce()).toBe(1);
    row = await outboxRow(database.db, id!);
    expect(row).toMatchObject({ status: 'sent', attempts: 3, last_error: null, provider_id: `p-${id}` });
    expect(row.sent_at?.getTime()).toBe(clock.now().getTime());
    expect(transport.ids()).toEqual([id, id, id]);
    expect([1, 2, 3, 4].map(backoffSeconds)).toEqual([2, 4, 8, 16]);
  });

  it('never stores a message twice when the acknowledgement of an accepted hand-off is lost', async () => {
    const dev = new DevOutboxTransport(database.db, clock);
    const transport = new ScriptedTransport(['accept-then-lose'], { inner: dev });
    const outbox = makeOutbox(database.db, clock, transport);
    const [id] = await queue(database.db, outbox, [verifyEmail('once@example.com')]);

    await outbox.runOnce();
    expect((await outboxRow(database.db, id!)).status).toBe('queued');
    expect(await devCopies(database.db, id!)).toBe(1);

    clock.advanceSeconds(backoffSeconds(1));
    await outbox.runOnce();
    expect((await outboxRow(database.db, id!)).status).toBe('sent');
    expect(transport.ids()).toEqual([id, id]);
    expect(await devCopies(database.db, id!)).toBe(1);
  });

  it('delivers each message exactly once when two outboxes drain one database at the same time', async () => {
    const transport = new ScriptedTransport([], { delayMs: 2 });
    const first = makeOutbox(database.db, clock, transport);
    const second = makeOutbox(database.db, clock, transport);
    const ids = await queue(database.db, first, Array.from({ length: 3 * delivery.batchSize + 5 }, () => verifyEmail()));

    await Promise.all([first.drain(), second.drain(), first.drain(), second.drain()]);
    expect(transport.calls).toHaveLength(ids.length);
    expect(new Set(transport.ids())).toEqual(new Set(ids));
    const statuses = await database.db.selectFrom('outbox').select(['status', 'attempts']).execute();
    expect(statuses.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
    // On PGlite the two share one connection and take turns; on PostgreSQL they overlap.
    if (onPostgres) expect(transport.calls.length).toBeGreaterThan(delivery.batchSize);
  });

  it('re-takes the claim of a process that died mid-send after claimSeconds, with the same id', async () => {
    const stuck = new ScriptedTransport(['hang']);
    const crashed = makeOutbox(database.db, clock, stuck);
    const dev = new DevOutboxTransport(database.db, clock);
    const survivor = new ScriptedTransport([], { inner: dev });
    const alive = makeOutbox(database.db, clock, survivor);
    const [id] = await queue(database.db, crashed, [verifyEmail()]);

    const deadRun = crashed.runOnce();
    await stuck.started;
    expect(await outboxRow(database.db, id!)).toMatchObject({ status: 'processing', attempts: 1 });

    clock.advanceSeconds(delivery.claimSeconds - 1);
    expect(await alive.runOnce()).toBe(0);
    clock.advanceSeconds(2);
    expect(await alive.runOnce()).toBe(1);
    expect(survivor.ids()).toEqual([id]);
    expect(stuck.ids()).toEqual([id]);
    expect(await outboxRow(database.db, id!)).toMatchObject({ status: 'sent', attempts: 2 });

    // The stuck process wakes up and reports a failure: its stale claim must not requeue
    // a message that was sent meanwhile.
    stuck.release(new Error('timed out'));
    await deadRun;
    expect((await outboxRow(database.db, id!)).status).toBe('sent');
    clock.advanceSeconds(3600);
    await alive.drain();
    expect(survivor.calls).toHaveLength(1);
    expect(await devCopies(database.db, id!)).toBe(1);
  });

  it('abandons a message after delivery.maxAttempts failures and stops trying', async () => {
    const transport = new ScriptedTransport(Array(50).fill('fail'));
    const outbox = makeOutbox(database.db, clock, transport);
    const [id] = await queue(database.db, outbox, [verifyEmail()]);

    for (let attempt = 1; attempt <= delivery.maxAttempts; attempt++) {
      expect((await outboxRow(database.db, id!)).status).toBe('queued');
      expect(await outbox.runOnce()).toBe(1);
      clock.advanceSeconds(backoffSeconds(attempt));
    }
    expect(await outboxRow(database.db, id!)).toMatchObject({ status: 'abandoned', attempts: delivery.maxAttempts, last_error: 'provider busy' });
    clock.advanceSeconds(86_400);
    expect(await outbox.runOnce()).toBe(0);
    expect(transport.calls).toHaveLength(delivery.maxAttempts);
  });

  it('abandons a permanently refused message at once', async () => {
    const transport = new ScriptedTransport(['reject']);
    const outbox = makeOutbox(database.db, clock, transport);
    const [id] = await queue(database.db, outbox, [verifyEmail()]);

    await outbox.runOnce();
    expect(await outboxRow(database.db, id!)).toMatchObject({ status: 'abandoned', attempts: 1, last_error: 'no such mailbox' });
    clock.advanceSeconds(3600);
    expect(await outbox.runOnce()).toBe(0);
    expect(transport.calls).toHaveLength(1);
  });

  it('gives up a claim that expired on its last attempt instead of retrying without end', async () => {
    const transport = new ScriptedTransport();
    const outbox = makeOutbox(database.db, clock, transport);
    const [id] = await queue(database.db, outbox, [verifyEmail()]);
    await database.db
      .updateTable('outbox')
      .set({ status: 'processing', attempts: delivery.maxAttempts, locked_until: clock.now() })
      .where('id', '=', id!)
      .execute();

    clock.advanceSeconds(1);
    expect(await outbox.runOnce()).toBe(0);
    expect((await outboxRow(database.db, id!)).status).toBe('abandoned');
    expect(transport.calls).toHaveLength(0);
  });
});
