import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as m0007 from '../../migrations/0007_phone_subscriber.js';
import { subscriberKey } from '../../src/phone/subscriber.js';
import { createTestApp, problem, signUp, stepUp, type TestApp } from '../helpers/app.js';
import { lastCode, settle, startPhone, verify, verifyNumber } from './helpers.js';

/** One account per line, whichever form of the line's number each account typed. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

let serial = 1000;
/** A fresh 4-digit tail, so numbers never collide between tests. */
function tail(): string {
  serial += 1;
  return String(serial);
}

async function verifyByCall(who: Awaited<ReturnType<typeof signUp>>, phone: string): Promise<string> {
  const started = await startPhone(t, who, { phone });
  expect(started.statusCode, started.body).toBe(202);
  const e164 = started.json().verification.phone as string;
  const res = await verify(t, who, await lastCode(t, e164));
  expect(res.statusCode, res.body).toBe(200);
  await settle(t);
  return e164;
}

describe('Argentina: +54 9 11… (mobile, international form) and +54 11… are one line', () => {
  it('refuses the form without the 9 once the form with it is verified on another account', async () => {
    const n = tail();
    const mobile = `+549112345${n}`;
    await verifyNumber(t, await signUp(t, { country: 'AR' }), mobile);
    const other = await signUp(t, { country: 'AR' });
    const res = await startPhone(t, other, { phone: `+54 11 2345 ${n}` });
    expect(res.statusCode, res.body).toBe(409);
    expect(problem(res).code).toBe('phone_in_use');
    // Typed at home, without any country code: the same line again.
    const national = await startPhone(t, other, { phone: `011 2345-${n}`, country: 'AR' });
    expect(problem(national).code).toBe('phone_in_use');
  });

  it('refuses the form with the 9 once the form without it is verified on another account', async () => {
    const n = tail();
    // Without the 9 the plan calls the number fixed: it is verified by a voice call.
    const fixedForm = await verifyByCall(await signUp(t, { country: 'AR' }), `+54 11 2345 ${n}`);
    expect(fixedForm).toBe(`+54112345${n}`);
    const res = await startPhone(t, await signUp(t, { country: 'AR' }), { phone: `+54 9 11 2345 ${n}` });
    expect(res.statusCode, res.body).toBe(409);
    expect(problem(res).code).toBe('phone_in_use');
  });

  it('settles in the database when both forms are verified at once (no check-then-write)', async () => {
    const n = tail();
    const [a, b] = [await signUp(t, { country: 'AR' }), await signUp(t, { country: 'AR' })];
    // Both start before either verifies, so both pass the holder check.
    expect((await startPhone(t, a, { phone: `+549112345${n}` })).statusCode).toBe(202);
    expect((await startPhone(t, b, { phone: `+54112345${n}` })).statusCode).toBe(202);
    const first = await verify(t, a, await lastCode(t, `+549112345${n}`));
    expect(first.statusCode, first.body).toBe(200);
    const second = await verify(t, b, await lastCode(t, `+54112345${n}`));
    expect(second.statusCode, second.body).toBe(409);
    expect(problem(second).code).toBe('phone_in_use');
  });

  it('keeps the 9 in the stored number (texts to an Argentine mobile need it) and says the line is already yours', async () => {
    const n = tail();
    const who = await signUp(t, { country: 'AR' });
    await verifyNumber(t, who, `+549112345${n}`);
    const row = await t.db.selectFrom('phone_numbers').select(['e164', 'subscriber']).where('account_id', '=', who.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ e164: `+549112345${n}`, subscriber: `+54112345${n}` });
    // Starting over with a verified number is a change: it needs a fresh check first.
    await stepUp(t, who);
    const again = await startPhone(t, who, { phone: `+54 11 2345 ${n}` });
    expect(problem(again).code).toBe('phone_already_verified');
  });

  it('keys only the 9-plus-10-digit form; other numbers are their own key', () => {
    expect(subscriberKey('+5493512345678')).toBe('+543512345678'); // Córdoba mobile
    expect(subscriberKey('+542991234567')).toBe('+542991234567'); // Neuquén fixed line
    expect(subscriberKey('+549112345678')).toBe('+549112345678'); // a digit short: not the mobile form
    expect(subscriberKey('+447400123456')).toBe('+447400123456');
  });
});

describe("Mexico: the old +52 1 mobile prefix reaches the same line as +52", () => {
  it('reads +52 1 55… as +52 55… (the plan retired the 1) and refuses it once +52 55… is verified elsewhere', async () => {
    const n = tail();
    await verifyNumber(t, await signUp(t, { country: 'MX' }), `+52551234${n}`);
    const other = await signUp(t, { country: 'MX' });
    const res = await startPhone(t, other, { phone: `+52 1 55 1234 ${n}` });
    expect(res.statusCode, res.body).toBe(409);
    expect(problem(res).code).toBe('phone_in_use');
  });

  it('verifies a number typed with the old 1, stored without it', async () => {
    const n = tail();
    const who = await signUp(t, { country: 'MX' });
    const started = await startPhone(t, who, { phone: `+52 1 55 1234 ${n}` });
    expect(started.statusCode, started.body).toBe(202);
    expect(started.json().verification.phone).toBe(`+52551234${n}`);
  });

  it('finds a line stored with the old 1 (from before the plan changed) under its new form', async () => {
    const n = tail();
    const holder = await signUp(t, { country: 'MX' });
    // A row written before the plan retired the 1, keyed as the backfill keys it.
    await t.db
      .insertInto('phone_numbers')
      .values({ account_id: holder.id, e164: `+521551234${n}`, subscriber: subscriberKey(`+521551234${n}`), country: 'MX', line_type: 'MOBILE', verified_at: t.clock.now() })
      .execute();
    const res = await startPhone(t, await signUp(t, { country: 'MX' }), { phone: `+52 55 1234 ${n}` });
    expect(problem(res).code).toBe('phone_in_use');
  });
});

describe('migration 0007 backfills the key of numbers verified before it', () => {
  it('keys existing rows; where two accounts hold one line the earlier keeps it and the later is flagged', async () => {
    const accounts = [];
    for (let i = 0; i < 5; i++) accounts.push(await signUp(t));
    const [arMobile, arFixed, mxOld, mxNew, plain] = accounts.map((a) => a.id) as [string, string, string, string, string];
    const at = (minutes: number) => new Date(t.clock.now().getTime() - minutes * 60_000);
    await m0007.down(t.db);
    const rows = [
      { account_id: arFixed, e164: '+541123459876', country: 'AR', line_type: 'FIXED_LINE', verified_at: at(50) },
      { account_id: arMobile, e164: '+5491123459876', country: 'AR', line_type: 'MOBILE', verified_at: at(40) },
      { account_id: mxOld, e164: '+5215598765432', country: 'MX', line_type: 'MOBILE', verified_at: at(30) },
      { account_id: mxNew, e164: '+525598765432', country: 'MX', line_type: 'FIXED_LINE_OR_MOBILE', verified_at: at(20) },
      { account_id: plain, e164: '+639170000777', country: 'PH', line_type: 'MOBILE', verified_at: at(10) },
    ];
    try {
      await sql`INSERT INTO phone_numbers (account_id, e164, country, line_type, verified_at)
        SELECT * FROM json_populate_recordset(NULL::phone_numbers, ${JSON.stringify(rows)}::json)`.execute(t.db);
    } finally {
      await m0007.up(t.db);
    }
    const keyed = await t.db.selectFrom('phone_numbers').select(['account_id', 'subscriber']).where('account_id', 'in', accounts.map((a) => a.id)).execute();
    expect(Object.fromEntries(keyed.map((r) => [r.account_id, r.subscriber]))).toEqual({
      [arFixed]: '+541123459876', // verified first: keeps the line
      [arMobile]: null, // the same line, verified later: keeps its number, flagged
      [mxOld]: '+525598765432',
      [mxNew]: null,
      [plain]: '+639170000777',
    });
    const flagged = await t.db.selectFrom('audit_events').select(['account_id', 'details']).where('event', '=', 'phone.subscriber_shared').execute();
    expect(flagged.map((f) => f.account_id).sort()).toEqual([arMobile, mxNew].sort());
    // The flagged ones still count as verified; the line stays refused to anyone else.
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${accounts[0]!.token}` } });
    expect(me.json().phone).toEqual({ number: '+5491123459876', verified: true });
    expect(problem(await startPhone(t, await signUp(t, { country: 'AR' }), { phone: '+54 9 11 2345 9876' })).code).toBe('phone_in_use');
    // The default M2M ranges came back with the migration.
    const m2m = await t.db.selectFrom('phone_voip_ranges').select('prefix').where('kind', '=', 'm2m').execute();
    expect(m2m.map((r) => r.prefix)).toContain('+3197');
  });
});
