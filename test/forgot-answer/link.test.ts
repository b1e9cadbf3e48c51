import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policies } from '../../src/platform/ratelimit.js';
import { auth, countRows, createTestApp, lastMessage, linkToken, problem, randomIp, type TestApp } from '../helpers/app.js';
import { listen } from '../helpers/browser.js';
import { auditEvents, changeMail } from '../twostep/helpers.js';
import { answerLink, loginChallenge, memberWithQuestion, NEW, NEW_TEXT, OLD_ANSWER } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const forgot = (id: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/forgot-answer`, headers });
const resetAnswer = (token: string, payload: unknown) => t.app.inject({ method: 'POST', url: `/v1/recovery/security-answer/${token}`, payload: payload as object });
const verify = (id: string, answer: string) => t.app.inject({ method: 'POST', url: `/v1/challenges/${id}/verify`, payload: { method: 'security_question', answer } });

describe('forgot your answer (API)', () => {
  it('mails a link that works once; the same challenge then passes with the new answer, not the old one', async () => {
    const member = await memberWithQuestion(t);
    const challenge = await loginChallenge(t, member);
    expect((await verify(challenge.id, 'Fido')).json().attemptsLeft).toBe(9);

    const sent = await forgot(challenge.id);
    expect(sent.statusCode, sent.body).toBe(202);
    expect(sent.json()).toEqual({ status: 'sent', expiresAt: new Date(t.clock.now().getTime() + 3600_000).toISOString() });
    const token = await answerLink(t, member);

    const reset = await resetAnswer(token, NEW);
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toEqual({ status: 'answer_reset', securityQuestion: { id: NEW.question, text: NEW_TEXT } });
    // The notice, like every 2SV change, with a "this wasn't me" link.
    expect((await changeMail(t, member)).body).toContain('reset through the link we e-mailed you');
    expect((await auditEvents(t, member.id)).map((e) => e.event)).toEqual(expect.arrayContaining(['security_answer.reset_link_sent', 'two_step.method_changed']));

    const again = await resetAnswer(token, { question: 'first_pet', answer: 'Someone else' });
    expect(again.statusCode).toBe(410);
    expect(problem(again).code).toBe('token_invalid');

    // The new question is the one the challenge shows; the guesses before the reset still count.
    const shown = await t.app.inject({ method: 'GET', url: `/v1/challenges/${challenge.id}` });
    expect(shown.json().methods).toContainEqual({ type: 'security_question', question: NEW_TEXT });
    const old = await verify(challenge.id, OLD_ANSWER);
    expect(old.statusCode).toBe(422);
    expect(problem(old)).toMatchObject({ code: 'answer_invalid', attemptsLeft: 8 });
    const passed = await verify(challenge.id, 'hillside primary');
    expect(passed.statusCode, passed.body).toBe(200);
    expect(passed.json().status).toBe('authenticated');
  });

  it('expires after 60 minutes (the injected clock)', async () => {
    const late = await memberWithQuestion(t);
    expect((await forgot((await loginChallenge(t, late)).id)).statusCode).toBe(202);
    const lateToken = await answerLink(t, late);
    const justInTime = await memberWithQuestion(t);
    expect((await forgot((await loginChallenge(t, justInTime)).id)).statusCode).toBe(202);
    const timelyToken = await answerLink(t, justInTime);

    t.clock.advanceSeconds(59 * 60 + 59);
    expect((await resetAnswer(timelyToken, NEW)).statusCode).toBe(200);
    t.clock.advanceSeconds(1);
    const expired = await resetAnswer(lateToken, NEW);
    expect(expired.statusCode).toBe(410);
    expect(problem(expired).code).toBe('token_invalid');
    expect(await t.app.verity.twoStep.securityQuestion.check(late.id, OLD_ANSWER)).toBe(true);
  });

  it('refuses tampered, unknown and other-purpose tokens alike with 410, and the real link still works', async () => {
    const member = await memberWithQuestion(t);
    expect((await forgot((await loginChallenge(t, member)).id)).statusCode).toBe(202);
    const token = await answerLink(t, member);
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login: member.username }, remoteAddress: randomIp() });
    const resetToken = linkToken((await lastMessage(t, member.email))!.body, '/recover/password');
    const bodies = [];
    for (const bad of [flipped, token.slice(1), 'x'.repeat(43), resetToken]) {
      const res = await resetAnswer(bad, NEW);
      expect(res.statusCode, bad).toBe(410);
      bodies.push({ ...problem(res) });
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect((await resetAnswer(token, NEW)).statusCode).toBe(200);
  });

  it('refuses bad input with 4xx and changes nothing; the link stays usable', async () => {
    const member = await memberWithQuestion(t);
    expect((await forgot((await loginChallenge(t, member)).id)).statusCode).toBe(202);
    const token = await answerLink(t, member);
    const before = await Promise.all([countRows(t.db, 'audit_events'), countRows(t.db, 'outbox')]);
    const cases: Array<[unknown, number, string]> = [
      [{ question: 'first_school', answer: 'ab' }, 422, 'answer_too_short'],
      [{ question: 'first_school', answer: ' !!x!! ' }, 422, 'answer_too_short'],
      [{ question: 'mothers_maiden_name', answer: 'Smith' }, 400, 'invalid_request'],
      [{ question: 'first_school' }, 400, 'invalid_request'],
      [{ question: 'first_school', answer: 'Hillside', extra: 1 }, 400, 'invalid_request'],
      [{ question: 'first_school', answer: 'x'.repeat(5000) }, 400, 'invalid_request'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await resetAnswer(token, payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(status);
      expect(problem(res).code).toBe(code);
    }
    expect(await Promise.all([countRows(t.db, 'audit_events'), countRows(t.db, 'outbox')])).toEqual(before);
    expect(await t.app.verity.twoStep.securityQuestion.check(member.id, OLD_ANSWER)).toBe(true);
    expect((await resetAnswer(token, NEW)).statusCode).toBe(200);
  });

  it('answers a challenge without a question 409 no_security_question, an unconfirmed e-mail 409, a dead challenge 410; nothing is sent', async () => {
    const noQuestion = await memberWithQuestion(t, { question: false });
    const unverified = await memberWithQuestion(t, { verified: false });
    const outbox = await countRows(t.db, 'outbox');
    const none = await forgot((await loginChallenge(t, noQuestion)).id);
    expect(none.statusCode).toBe(409);
    expect(problem(none).code).toBe('no_security_question');
    const unconfirmed = await forgot((await loginChallenge(t, unverified)).id);
    expect(unconfirmed.statusCode).toBe(409);
    expect(problem(unconfirmed).code).toBe('email_verification_required');
    const unknown = await forgot('not-a-challenge');
    expect(unknown.statusCode).toBe(410);
    expect(problem(unknown).code).toBe('challenge_expired');
    const withBody = await t.app.inject({ method: 'POST', url: `/v1/challenges/x/forgot-answer`, payload: { email: 'attacker@example.com' } });
    expect(withBody.statusCode).toBe(400);
    expect(await countRows(t.db, 'outbox')).toBe(outbox);

    // A step-up challenge answers only its own session.
    const member = await memberWithQuestion(t);
    const stepUp = (await t.app.inject({ method: 'POST', url: '/v1/me/step-up', headers: auth(member.token) })).json().challenge as { id: string };
    expect((await forgot(stepUp.id)).statusCode).toBe(410);
    expect((await forgot(stepUp.id, auth(member.token))).statusCode).toBe(202);
  });

  it(`is rate-limited (${policies.forgot_answer_account.limit} an hour per account), and only the newest link works`, async () => {
    const member = await memberWithQuestion(t);
    const challenge = await loginChallenge(t, member);
    const tokens: string[] = [];
    for (let i = 0; i < policies.forgot_answer_account.limit; i++) {
      expect((await forgot(challenge.id)).statusCode).toBe(202);
      tokens.push(await answerLink(t, member));
    }
    const outbox = await countRows(t.db, 'outbox');
    // A new challenge buys no new links.
    const refused = await forgot((await loginChallenge(t, member)).id);
    expect(refused.statusCode).toBe(429);
    expect(problem(refused).code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await countRows(t.db, 'outbox')).toBe(outbox);

    expect((await resetAnswer(tokens[0]!, NEW)).statusCode).toBe(410);
    expect((await resetAnswer(tokens.at(-1)!, NEW)).statusCode).toBe(200);
    t.clock.advanceSeconds(policies.forgot_answer_account.windowSeconds);
    expect((await forgot((await loginChallenge(t, member)).id)).statusCode).toBe(202);
  });

  it('two submits of one link racing over HTTP: one wins, the other is 410, one notice goes out', async () => {
    const base = await listen(t);
    const member = await memberWithQuestion(t);
    expect((await forgot((await loginChallenge(t, member)).id)).statusCode).toBe(202);
    const token = await answerLink(t, member);
    const outbox = await countRows(t.db, 'outbox');
    const submit = (answer: string) =>
      fetch(`${base}/v1/recovery/security-answer/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'first_job', answer }) });
    const results = await Promise.all([submit('Acme Widgets'), submit('Globex Corp')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 410]);
    const winner = results[0]!.status === 200 ? 'Acme Widgets' : 'Globex Corp';
    expect(await t.app.verity.twoStep.securityQuestion.check(member.id, winner)).toBe(true);
    expect(await countRows(t.db, 'outbox')).toBe(outbox + 1);
  });

  it('at a recovery challenge: refused, since the reset link came to the same inbox; nothing is sent', async () => {
    const member = await memberWithQuestion(t);
    await t.app.inject({ method: 'POST', url: '/v1/recovery/password', payload: { login: member.username }, remoteAddress: randomIp() });
    const resetToken = linkToken((await lastMessage(t, member.email))!.body, '/recover/password');
    const { challenge } = (await t.app.inject({ method: 'GET', url: `/v1/recovery/password/${resetToken}` })).json() as { challenge: { id: string } };
    const outbox = await countRows(t.db, 'outbox');
    const refused = await forgot(challenge.id);
    expect(refused.statusCode).toBe(409);
    expect(problem(refused).code).toBe('answer_reset_needs_other_step');
    expect(problem(refused).detail).toMatch(/same inbox/);
    expect(await countRows(t.db, 'outbox')).toBe(outbox);
    // The old answer still passes the check.
    expect((await verify(challenge.id, OLD_ANSWER)).json()).toEqual({ status: 'verified' });
  });
});
