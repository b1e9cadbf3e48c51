import { expect } from 'vitest';
import { auth, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { firstAdmin } from '../admin/admin.js';

/** An admin (the first, by the setup token) and an agent that admin appointed. */
export async function staff(t: TestApp): Promise<{ admin: SignedUp; agent: SignedUp }> {
  const admin = await firstAdmin(t);
  const agent = await signUp(t);
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/staff', headers: auth(admin.token), payload: { login: agent.username, role: 'agent' } });
  expect(res.statusCode).toBe(200);
  return { admin, agent };
}

/** Opens a case straight through the support service, as the tickets and resets domains do. */
export async function openCase(
  t: TestApp,
  input: { kind: 'ticket' | 'security_reset' | 'compromised'; priority: 'normal' | 'high' | 'urgent'; accountId?: string | null; source?: string },
): Promise<string> {
  const { support, db } = t.app.verity;
  const opened = await db.transaction().execute((trx) => support.open(trx, { accountId: null, source: 'test', ...input }));
  return opened.id;
}

export async function auditRows(t: TestApp, event: string) {
  return t.db.selectFrom('audit_events').selectAll().where('event', '=', event).orderBy('created_at').execute();
}

/** Signs in again (after the clock moved past a session's life); returns the member with the new token. */
export async function signInAgain(t: TestApp, who: SignedUp): Promise<SignedUp> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: who.username, password: who.password } });
  expect(res.statusCode, res.body).toBe(200);
  return { ...who, token: res.json().session.token as string };
}
