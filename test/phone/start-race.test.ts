import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, type TestApp } from '../helpers/app.js';
import { listen } from '../helpers/browser.js';
import { count, phMobile } from './helpers.js';

/**
 * Parallel starts for one account, against a real listening server (separate connections,
 * so on PostgreSQL the requests really overlap in separate transactions).
 */
let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await createTestApp();
  base = await listen(t);
});
afterAll(async () => {
  await t.close();
});

async function post(token: string, body: Record<string, unknown>) {
  const res = await fetch(`${base}/v1/me/phone`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; detail?: string } };
}

async function pendingRows(accountId: string): Promise<number> {
  const rows = await t.db.selectFrom('phone_verifications').select('id').where('account_id', '=', accountId).where('status', '=', 'pending').execute();
  return rows.length;
}

describe('parallel POST /v1/me/phone for one account', () => {
  it('gives one 202 and clear 429 resend_too_soon answers for the same number, never a 500', async () => {
    for (let round = 0; round < 3; round++) {
      const who = await signUp(t);
      const phone = phMobile();
      const answers = await Promise.all(Array.from({ length: 4 }, () => post(who.token, { phone })));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses, JSON.stringify(answers)).toEqual([202, 429, 429, 429]);
      for (const a of answers.filter((x) => x.status === 429)) {
        expect(a.body.code).toBe('resend_too_soon');
        expect(a.body.detail).toMatch(/^Please wait \d+ seconds before asking for another code\.$/);
      }
      expect(await pendingRows(who.id)).toBe(1);
    }
  });

  it('two different numbers at once: one of them is pending, the other told to wait, never a 500', async () => {
    const who = await signUp(t);
    const before = await count(t, 'outbox');
    const answers = await Promise.all([post(who.token, { phone: phMobile() }), post(who.token, { phone: phMobile() })]);
    const statuses = answers.map((a) => a.status);
    expect(statuses, JSON.stringify(answers)).not.toContain(500);
    expect(statuses).toContain(202);
    expect(await pendingRows(who.id)).toBe(1);
    // Every 202 sent one code; nothing else was sent.
    await t.app.verity.outbox.drain();
    expect((await count(t, 'outbox')) - before).toBe(statuses.filter((s) => s === 202).length);
  });
});
