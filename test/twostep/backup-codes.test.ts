import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, stepUp, type TestApp } from '../helpers/app.js';
import { auditEvents, call, changeMail, overview } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function generate(member: Awaited<ReturnType<typeof signUp>>): Promise<string[]> {
  const res = await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
  expect(res.statusCode, res.body).toBe(200);
  return res.json().codes as string[];
}

describe('backup codes', () => {
  it('gives 10 distinct codes once and stores only their hashes', async () => {
    const member = await signUp(t);
    const codes = await generate(member);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    const rows = await t.db.selectFrom('backup_codes').select('code_hash').where('account_id', '=', member.id).execute();
    expect(rows).toHaveLength(10);
    const stored = rows.map((r) => r.code_hash).join(' ');
    for (const code of codes) {
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(code.replace('-', ''));
    }
    const view = await overview(t, member);
    expect(view.enabled).toBe(true);
    expect(view.backupCodes).toEqual({ remaining: 10, low: false });
    expect(view.methods).toEqual([{ type: 'backup_code', addedAt: expect.any(String), remaining: 10, suspended: false }]);
    expect(JSON.stringify(view)).not.toContain(codes[0]);
    expect((await changeMail(t, member)).body).toContain('Backup codes were created');
  });

  it('takes each code once, typed with or without the dash and in capitals', async () => {
    const member = await signUp(t);
    const [first, second] = await generate(member);
    const { backupCodes } = t.app.verity.twoStep;
    expect(await backupCodes.use(member.id, first!.toUpperCase().replace('-', ' '))).toBe(true);
    expect(await backupCodes.use(member.id, first!)).toBe(false);
    expect(await backupCodes.use(member.id, 'abcde-fghjk')).toBe(false);
    // Another account's code is no use here.
    const other = await signUp(t);
    expect(await backupCodes.use(other.id, second!)).toBe(false);
    expect((await overview(t, member)).backupCodes?.remaining).toBe(9);
  });

  it('two sign-ins racing with one code: exactly one wins', async () => {
    const member = await signUp(t);
    const [code] = await generate(member);
    const { backupCodes } = t.app.verity.twoStep;
    const results = await Promise.all(Array.from({ length: 6 }, () => backupCodes.use(member.id, code!)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await overview(t, member)).backupCodes?.remaining).toBe(9);
  });

  it('regenerating voids every earlier code', async () => {
    const member = await signUp(t);
    // Once 2SV is on, changing it needs a step-up: the password does it while 2SV is still off.
    await stepUp(t, member);
    const old = await generate(member);
    const fresh = await generate(member);
    const { backupCodes } = t.app.verity.twoStep;
    for (const code of old.slice(0, 3)) expect(await backupCodes.use(member.id, code)).toBe(false);
    expect(await backupCodes.use(member.id, fresh[0]!)).toBe(true);
    expect((await overview(t, member)).backupCodes?.remaining).toBe(9);
    const events = (await auditEvents(t, member.id)).map((e) => e.event);
    expect(events).toContain('two_step.backup_codes_regenerated');
    expect((await changeMail(t, member)).body).toContain('the 10 unused earlier codes no longer work');
  });

  it('warns at 2 or fewer codes left, and offers new ones', async () => {
    const member = await signUp(t);
    await stepUp(t, member);
    const codes = await generate(member);
    await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    const { backupCodes } = t.app.verity.twoStep;
    for (const code of codes.slice(0, 7)) expect(await backupCodes.use(member.id, code)).toBe(true);
    let view = await overview(t, member);
    expect(view.backupCodes).toEqual({ remaining: 3, low: false });
    expect(view.recommendation).toBeUndefined();
    expect(await backupCodes.use(member.id, codes[7]!)).toBe(true);
    view = await overview(t, member);
    expect(view.backupCodes).toEqual({ remaining: 2, low: true });
    expect(view.recommendation).toEqual({ code: 'new_backup_codes', message: expect.stringContaining('Only 2 backup codes are left') });
  });

  it('removing backup codes voids them all', async () => {
    const member = await signUp(t);
    await stepUp(t, member);
    const codes = await generate(member);
    expect((await call(t, member, 'DELETE', '/v1/me/two-step/backup_code')).statusCode).toBe(204);
    expect(await t.app.verity.twoStep.backupCodes.use(member.id, codes[0]!)).toBe(false);
    const view = await overview(t, member);
    expect(view.enabled).toBe(false);
    expect(view.backupCodes).toBeNull();
  });
});
