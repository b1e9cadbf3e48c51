import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noMeta } from '../../src/platform/audit.js';
import { auth, createTestApp, problem, randomIp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { allRoutes, concrete } from '../helpers/routes.js';
import { control, signUpByForm } from '../pages/form.js';
import { addAuthenticator, appCode, call, overview } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** A valid body for each write, so what answers is the step-up and not the schema. */
const BODIES: Record<string, unknown> = {
  '/v1/me/two-step/totp/confirm': { setupId: randomUUID(), code: '123456' },
  '/v1/me/two-step/security-question': { question: 'first_pet', answer: 'Rex' },
  '/v1/me/two-step/passkeys': { setupId: randomUUID(), name: 'Key', response: { id: 'x' } },
};

function verify(who: SignedUp, challengeId: string, payload: Record<string, unknown>) {
  return t.app.inject({ method: 'POST', url: `/v1/challenges/${challengeId}/verify`, headers: auth(who.token), payload });
}

describe('changes to two-step verification need a step-up once it is on', () => {
  it('turning on the first method needs none beyond being signed in', async () => {
    const member = await signUp(t);
    const res = await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
    expect(res.statusCode, res.body).toBe(200);
    expect((await overview(t, member)).enabled).toBe(true);
  });

  it('every write under /v1/me/two-step answers 403 step_up_required with a challenge, and changes nothing', async () => {
    const member = await signUp(t);
    await addAuthenticator(t, member);
    const before = await overview(t, member);
    const writes = allRoutes(t.app).filter(([method, path]) => method !== 'GET' && path.startsWith('/v1/me/two-step'));
    expect(writes.length).toBeGreaterThanOrEqual(11);
    for (const [method, path] of writes) {
      const url = concrete(path, (name) => (name === 'type' ? 'totp' : randomUUID()));
      const res = await call(t, member, method as 'POST', url, BODIES[path] ?? (method === 'DELETE' ? undefined : {}));
      expect(res.statusCode, `${method} ${path}: ${res.body}`).toBe(403);
      expect(problem(res).code).toBe('step_up_required');
      const { challenge } = res.json() as { challenge: { purpose: string; methods: Array<{ type: string }> } };
      expect(challenge.purpose).toBe('step_up');
      // With 2SV on, the password alone is no step-up: the member's own methods are asked for.
      expect(challenge.methods.map((m) => m.type)).toEqual(['totp']);
    }
    expect(await overview(t, member)).toEqual(before);
  });

  it('is required, then honoured, then required again after 10 minutes (injected clock)', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    const refused = await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
    expect(refused.statusCode).toBe(403);
    expect((await overview(t, member)).backupCodes).toBeNull();

    t.clock.advanceSeconds(30); // the confirming code's step is used up
    const { challenge } = refused.json() as { challenge: { id: string } };
    const passed = await verify(member, challenge.id, { method: 'totp', code: appCode(t, secret) });
    expect(passed.statusCode, passed.body).toBe(200);
    expect(passed.json().elevatedUntil).toBe(new Date(t.clock.now().getTime() + 600_000).toISOString());

    expect((await call(t, member, 'POST', '/v1/me/two-step/backup-codes')).statusCode).toBe(200);
    // The step-up is this session's: another session of the member is asked again.
    const other = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, remoteAddress: randomIp() });
    const elsewhere = other.json().challenge as { id: string };
    t.clock.advanceSeconds(30);
    const signedIn = await t.app.inject({ method: 'POST', url: `/v1/challenges/${elsewhere.id}/verify`, payload: { method: 'totp', code: appCode(t, secret) } });
    const otherToken = signedIn.json().session.token as string;
    expect((await call(t, { ...member, token: otherToken }, 'DELETE', '/v1/me/two-step/backup_code')).statusCode).toBe(403);

    t.clock.advanceSeconds(600 - 30 - 1);
    expect((await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' })).statusCode).toBe(200);
    t.clock.advanceSeconds(2);
    const late = await call(t, member, 'DELETE', '/v1/me/two-step/backup_code');
    expect(late.statusCode).toBe(403);
    expect(problem(late).code).toBe('step_up_required');
    expect((await overview(t, member)).methods.map((m) => m.type)).toEqual(['totp', 'backup_code', 'security_question']);
  });
});

describe('the two-step pages step up first and come back to the page that asked', () => {
  async function pageMemberWithBackupCodes() {
    const { visitor, user } = await signUpByForm(t);
    const account = await t.db.selectFrom('accounts').select('id').where('username', '=', user.username).executeTakeFirstOrThrow();
    const codes = await t.app.verity.twoStep.backupCodes.generate(account.id, noMeta);
    return { visitor, codes };
  }

  it('the security question page asks for the step-up before anything is typed, then returns to it', async () => {
    const { visitor, codes } = await pageMemberWithBackupCodes();
    const asked = await visitor.get('/account/two-step/security-question');
    expect(asked.statusCode).toBe(303);
    expect(asked.headers.location).toBe('/account/step-up?next=%2Faccount%2Ftwo-step%2Fsecurity-question');

    const step = await visitor.get(asked.headers.location!);
    expect(control(step.body, 'next')?.value).toBe('/account/two-step/security-question');
    expect(control(step.body, 'password')).toBeUndefined();
    const wrong = await visitor.post('/account/step-up', { next: '/account/two-step/security-question', method: 'backup_code', code: 'aaaaa-aaaaa' });
    expect(wrong.statusCode).toBe(422);
    const passed = await visitor.post('/account/step-up', { next: '/account/two-step/security-question', method: 'backup_code', code: codes[0]! });
    expect(passed.statusCode).toBe(303);
    expect(passed.headers.location).toBe('/account/two-step/security-question');

    const form = await visitor.get('/account/two-step/security-question');
    expect(form.statusCode).toBe(200);
    const saved = await visitor.post('/account/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    expect(saved.headers.location).toBe('/account/security?twostep=security_question#two-step');
  });

  it('a form on the security page comes back to the security page, and asks again after 10 minutes', async () => {
    const { visitor, codes } = await pageMemberWithBackupCodes();
    await visitor.get('/account/security');
    const asked = await visitor.post('/account/two-step/totp', {});
    expect(asked.headers.location).toBe('/account/step-up?next=%2Faccount%2Fsecurity');
    await visitor.get(asked.headers.location!);
    const passed = await visitor.post('/account/step-up', { next: '/account/security', method: 'backup_code', code: codes[1]! });
    expect(passed.headers.location).toBe('/account/security');
    await visitor.get('/account/security');
    const setup = await visitor.post('/account/two-step/totp', {});
    expect(setup.statusCode).toBe(200);
    expect(control(setup.body, 'code')).toBeDefined();

    t.clock.advanceSeconds(601);
    await visitor.get('/account/security');
    const late = await visitor.post('/account/two-step/remove/backup_code', {});
    expect(late.headers.location).toBe('/account/step-up?next=%2Faccount%2Fsecurity');
    expect((await visitor.get('/account/security')).body).toContain('data-type="backup_code"');
  });
});
