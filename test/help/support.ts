import { signUp, type SignedUp, type TestApp } from '../helpers/app.js';

/** Makes an account an admin directly in the database (the setup flow is tested elsewhere). */
export async function grantAdmin(t: TestApp, accountId: string): Promise<void> {
  await t.db.insertInto('staff_roles').values({ account_id: accountId, role: 'admin', granted_by: null, granted_at: t.clock.now() }).execute();
}

/** A new member who is an admin. */
export type SignedUpAdmin = SignedUp;

export async function signUpAdmin(t: TestApp, overrides: Record<string, unknown> = {}): Promise<SignedUpAdmin> {
  const admin = await signUp(t, overrides);
  await grantAdmin(t, admin.id);
  return admin;
}

export async function countTable(t: TestApp, table: 'help_articles' | 'help_votes' | 'audit_events'): Promise<number> {
  const row = await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The seeded articles (migrations/0004_help_notices.ts, 0018_duplicate_account_help.ts), by slug. */
export const SEEDED = [
  'why-we-verify-phones',
  'phone-number-in-use',
  'code-not-received',
  'voip-numbers',
  'lost-phone',
  'forgot-password',
  'forgot-security-answer',
  'two-step-verification-methods',
  'account-compromised',
  'contact-support',
  'one-account-per-person',
  'no-access-to-email',
  'confirm-its-you',
  'duplicate-account',
] as const;
