import { expect } from 'vitest';
import { auth, lastMessage, linkToken, randomIp, signUp, stepUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { call } from '../twostep/helpers.js';

export const OLD_ANSWER = 'Rex';
export const NEW = { question: 'first_school', answer: 'Hillside Primary' };
export const NEW_TEXT = 'What was the name of your first school?';

/** A member with a confirmed e-mail, the security question "first pet" = Rex, and backup codes (a second method). */
export async function memberWithQuestion(t: TestApp, options: { verified?: boolean; question?: boolean } = {}): Promise<SignedUp & { backupCodes: string[] }> {
  const member = await signUp(t);
  if (options.verified !== false) {
    const mail = await lastMessage(t, member.email);
    const res = await t.app.inject({ method: 'POST', url: '/v1/accounts/email-verification', payload: { token: linkToken(mail!.body, '/verify-email?token') } });
    expect(res.statusCode, res.body).toBe(200);
  }
  if (options.question !== false) {
    expect((await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: OLD_ANSWER })).statusCode).toBe(200);
    // 2SV is on now: adding the backup codes needs a step-up, passed with the question.
    await stepUp(t, member, async (challenge) => {
      const res = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, headers: auth(member.token), payload: { method: 'security_question', answer: OLD_ANSWER } });
      expect(res.statusCode, res.body).toBe(200);
    });
  }
  const codes = await call(t, member, 'POST', '/v1/me/two-step/backup-codes');
  expect(codes.statusCode, codes.body).toBe(200);
  return { ...member, backupCodes: codes.json().codes as string[] };
}

/** Signs in with the password: the answer is a login challenge. */
export async function loginChallenge(t: TestApp, member: SignedUp): Promise<{ id: string; methods: Array<{ type: string; question?: string }> }> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: member.username, password: member.password }, remoteAddress: randomIp() });
  expect(res.json().status, res.body).toBe('two_step_required');
  return res.json().challenge;
}

/** The token of the newest forgot-answer link mailed to the member. */
export async function answerLink(t: TestApp, member: SignedUp): Promise<string> {
  const mail = await lastMessage(t, member.email);
  expect(mail?.subject).toBe('Choose a new answer to your Verity security question');
  return linkToken(mail!.body, '/recover/security-answer');
}
