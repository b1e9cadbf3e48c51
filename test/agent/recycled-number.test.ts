import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, lastMessage, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { Visitor } from '../pages/form.js';
import { lastCode, phMobile, settle, startPhone, verify, verifyNumber } from '../phone/helpers.js';
import { signInAgain, staff } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;

let t: TestApp;
let agent: SignedUp;

beforeAll(async () => {
  t = await createTestApp();
  ({ agent } = await staff(t));
});
afterAll(() => t.close());

const claim = (who: SignedUp, phone: string) => t.app.inject({ method: 'POST', url: '/v1/me/phone/claim', headers: auth(who.token), payload: { phone } });
const prove = (who: SignedUp, code: string) => t.app.inject({ method: 'POST', url: '/v1/me/phone/claim/verify', headers: auth(who.token), payload: { code } });
const release = (caseId: string) => t.app.inject({ method: 'POST', url: `/v1/agent/cases/${caseId}/release-number`, headers: auth(agent.token) });
const caseOf = (caseId: string) => t.app.inject({ method: 'GET', url: `/v1/agent/cases/${caseId}`, headers: auth(agent.token) });

/** A member who gets phone_in_use for `number`, then proves with a code that they hold it. */
async function claimed(number: string): Promise<{ requester: SignedUp; caseId: string; bodies: string[] }> {
  const requester = await signUp(t);
  const refused = await startPhone(t, requester, { phone: number });
  expect(refused.statusCode).toBe(409);
  expect(refused.json().claim).toMatchObject({ rel: 'claim_number', title: 'This number is mine now', request: { path: '/v1/me/phone/claim', body: { phone: number } } });
  const started = await claim(requester, number);
  expect(started.statusCode, started.body).toBe(202);
  const code = await lastCode(t, number);
  const wrong = await prove(requester, code === '000000' ? '111111' : '000000');
  expect(wrong.statusCode).toBe(422);
  expect(wrong.json().attemptsLeft).toBe(4);
  const proven = await prove(requester, code);
  expect(proven.statusCode, proven.body).toBe(201);
  return { requester, caseId: proven.json().caseId as string, bodies: [refused.body, started.body, wrong.body, proven.body] };
}

describe('"this number is mine now"', () => {
  it('releases the number of a dormant account to the member who holds the line, telling both, naming neither', async () => {
    const number = phMobile();
    const holder = await signUp(t);
    await verifyNumber(t, holder, number);
    t.clock.advance(181 * DAY);
    agent = await signInAgain(t, agent);

    const { requester, caseId, bodies } = await claimed(number);
    const queue = (await t.app.inject({ method: 'GET', url: '/v1/agent/queue?kind=phone_claim', headers: auth(agent.token) })).json();
    expect(queue).toEqual([expect.objectContaining({ id: caseId, kind: 'phone_claim', status: 'open', account: { id: requester.id, username: requester.username } })]);
    const shown = (await caseOf(caseId)).json();
    expect(shown.claim).toMatchObject({ phone: number, status: 'proven', holder: { id: holder.id, username: holder.username, dormant: true } });

    // The requester never learns whose number it was: not in the answers, not on their pages.
    const visitor = new Visitor(t);
    visitor.cookies.set('verity_session', requester.token);
    const security = await visitor.get('/account/security');
    expect(security.body).toContain('Phone number claim');
    for (const text of [...bodies, security.body, (await visitor.get('/account/phone/claim')).body]) {
      expect(text).not.toContain(holder.username);
      expect(text).not.toContain(holder.email);
      expect(text).not.toContain(holder.id);
    }

    const released = await release(caseId);
    expect(released.statusCode, released.body).toBe(200);
    expect(released.json()).toMatchObject({ status: 'solved', claim: { status: 'released' } });
    expect(await t.db.selectFrom('phone_numbers').selectAll().where('account_id', '=', holder.id).execute()).toEqual([]);
    expect((await lastMessage(t, holder.email))?.subject).toBe('The phone number on your Verity account was released');
    expect((await lastMessage(t, requester.email))?.subject).toBe('You can verify your phone number now');
    const audit = await t.db.selectFrom('audit_events').selectAll().where('event', '=', 'phone.released').where('account_id', '=', holder.id).executeTakeFirstOrThrow();
    expect(audit.actor_id).toBe(agent.id);
    expect(audit.details).toMatchObject({ reason: 'recycled_number', caseId });

    // Once.
    const again = await release(caseId);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('already_decided');

    // The number is the requester's to verify now.
    await settle(t);
    expect((await startPhone(t, requester, { phone: number })).statusCode).toBe(202);
    expect((await verify(t, requester, await lastCode(t, number))).statusCode).toBe(200);
  });

  it('keeps the number on an account used within 180 days', async () => {
    const number = phMobile();
    const holder = await signUp(t);
    await verifyNumber(t, holder, number);
    t.clock.advance(179 * DAY);
    agent = await signInAgain(t, agent);
    const { caseId } = await claimed(number);
    expect((await caseOf(caseId)).json().claim.holder.dormant).toBe(false);
    const refused = await release(caseId);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('holder_active');
    expect(await t.db.selectFrom('phone_numbers').select('e164').where('account_id', '=', holder.id).execute()).toEqual([{ e164: number }]);
    expect((await caseOf(caseId)).json()).toMatchObject({ status: 'open', claim: { status: 'proven' } });
  });

  it('refuses a claim of a number nobody holds, and a second open claim of the same line', async () => {
    const member = await signUp(t);
    const free = await claim(member, phMobile());
    expect(free.statusCode).toBe(409);
    expect(free.json().code).toBe('phone_not_in_use');

    const number = phMobile();
    const holder = await signUp(t);
    await verifyNumber(t, holder, number);
    const { requester } = await claimed(number);
    t.clock.advance(10 * 60 * 1000);
    const twice = await claim(requester, number);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('claim_open');
  });

  it('does not take a phone verification code as the claim code', async () => {
    const number = phMobile();
    const holder = await signUp(t);
    await verifyNumber(t, holder, number);
    const requester = await signUp(t);
    expect((await claim(requester, number)).statusCode).toBe(202);
    const claimCode = await lastCode(t, number);
    // The stored hash is bound to the claim's purpose: the same digits hashed for verification differ.
    const row = await t.db.selectFrom('phone_claims').select('code_hash').where('account_id', '=', requester.id).executeTakeFirstOrThrow();
    const { codeHash, claimCodeHash } = await import('../../src/phone/codes.js');
    const key = t.app.verity.secrets.tokenKey;
    expect(row.code_hash).toBe(claimCodeHash(key, requester.id, number, claimCode));
    expect(row.code_hash).not.toBe(codeHash(key, requester.id, number, claimCode));
  });
});
