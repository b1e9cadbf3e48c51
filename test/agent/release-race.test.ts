import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { listen } from '../helpers/browser.js';
import { lastCode, phMobile, verifyNumber } from '../phone/helpers.js';
import { signInAgain, staff } from './helpers.js';

let t: TestApp;
let agent: SignedUp;
let base: string;

beforeAll(async () => {
  t = await createTestApp();
  ({ agent } = await staff(t));
  base = await listen(t);
});
afterAll(() => t.close());

describe('two agents releasing one number at once', () => {
  it('releases it once: one 200, one 409, one e-mail to the holder', async () => {
    const number = phMobile();
    const holder = await signUp(t);
    await verifyNumber(t, holder, number);
    t.clock.advance(200 * 24 * 60 * 60 * 1000);
    agent = await signInAgain(t, agent);
    const requester = await signUp(t);
    expect((await t.app.inject({ method: 'POST', url: '/v1/me/phone/claim', headers: auth(requester.token), payload: { phone: number } })).statusCode).toBe(202);
    const proven = await t.app.inject({ method: 'POST', url: '/v1/me/phone/claim/verify', headers: auth(requester.token), payload: { code: await lastCode(t, number) } });
    const caseId = proven.json().caseId as string;

    const release = () => fetch(`${base}/v1/agent/cases/${caseId}/release-number`, { method: 'POST', headers: auth(agent.token) });
    const answers = await Promise.all([release(), release(), release()]);
    const codes = await Promise.all(answers.map(async (r) => (r.status === 200 ? 'released' : ((await r.json()) as { code: string }).code)));
    expect(codes.sort()).toEqual(['already_decided', 'already_decided', 'released']);
    const mails = await t.db.selectFrom('outbox').select('id').where('recipient', '=', holder.email).where('template', '=', 'phone-released').execute();
    expect(mails).toHaveLength(1);
    const audits = await t.db.selectFrom('audit_events').select('id').where('event', '=', 'phone.released').where('account_id', '=', holder.id).execute();
    expect(audits).toHaveLength(1);
  });
});
