import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/twostep/methods/security-question.js';
import { auth, countRows, createTestApp, problem, signUp, stepUp, type TestApp } from '../helpers/app.js';
import { auditEvents, call, changeMail, overview } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('security question', () => {
  it('lists the questions to choose from, without signing in', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/security-questions' });
    expect(res.statusCode).toBe(200);
    const list = res.json() as Array<{ id: string; text: string }>;
    expect(list.length).toBeGreaterThanOrEqual(5);
    for (const q of list) {
      expect(q.id).toMatch(/^[a-z_]+$/);
      expect(q.text).toMatch(/\?$/);
    }
  });

  it('keeps an argon2id hash of the normalised answer and accepts it however it is typed', async () => {
    const member = await signUp(t);
    const res = await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_street', answer: '  Rue de la  Paix!  ' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().securityQuestion).toEqual({ id: 'first_street', text: 'What was the name of the street you grew up on?' });
    const row = await t.db.selectFrom('security_answers').select('answer_hash').where('account_id', '=', member.id).executeTakeFirstOrThrow();
    expect(row.answer_hash).toMatch(/^\$argon2id\$/);
    expect(row.answer_hash.toLowerCase()).not.toContain('paix');

    const { securityQuestion } = t.app.verity.twoStep;
    for (const typed of ['rue de la paix', 'RUE DE LA PAIX', '"Rue de la Paix."', 'Rue\tde la\u00a0Paix', 'Ｒｕｅ ｄｅ ｌａ ｐａｉｘ']) {
      expect(await securityQuestion.check(member.id, typed), typed).toBe(true);
    }
    for (const typed of ['rue de la paix 2', 'ruedelapaix', 'rue de la']) {
      expect(await securityQuestion.check(member.id, typed), typed).toBe(false);
    }
    expect((await changeMail(t, member)).body).toContain('A security question was added');
  });

  it('normalises: NFKC, case folded, spaces collapsed, surrounding punctuation dropped', () => {
    expect(normalizeAnswer('  ¡Hola,   Señor!  ')).toBe('hola, señor');
    expect(normalizeAnswer('STRASSE')).toBe(normalizeAnswer('Straße'));
    expect(normalizeAnswer('ﬁdo')).toBe('fido');
    expect(normalizeAnswer('...')).toBe('');
  });

  it('refuses an answer under 3 characters once normalised, and changes nothing', async () => {
    const member = await signUp(t);
    const before = await countRows(t.db, 'audit_events');
    for (const answer of ['ab', '   ab   ', '!!x!!', '...', '“Jo.”']) {
      const res = await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer });
      expect(res.statusCode, answer).toBe(422);
      expect(problem(res).code).toBe('answer_too_short');
    }
    const unknown = await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'mothers_maiden_name', answer: 'Smith' });
    expect(unknown.statusCode).toBe(400);
    expect(problem(unknown).errors?.[0]?.path).toBe('/question');
    expect(await countRows(t.db, 'audit_events')).toBe(before);
    expect((await overview(t, member)).enabled).toBe(false);
  });

  it('changing the question replaces the answer', async () => {
    const member = await signUp(t);
    await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    // 2SV is on: the change needs a step-up, here passed with the answer being replaced.
    await stepUp(t, member, async (challenge) => {
      const passed = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, headers: auth(member.token), payload: { method: 'security_question', answer: 'rex' } });
      expect(passed.statusCode, passed.body).toBe(200);
    });
    const res = await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_school', answer: 'Hillside' });
    expect(res.statusCode).toBe(200);
    const { securityQuestion } = t.app.verity.twoStep;
    expect(await securityQuestion.check(member.id, 'rex')).toBe(false);
    expect(await securityQuestion.check(member.id, 'hillside')).toBe(true);
    expect((await auditEvents(t, member.id)).map((e) => e.event)).toContain('two_step.method_changed');
    expect((await overview(t, member)).methods.map((m) => m.type)).toEqual(['security_question']);
  });
});
