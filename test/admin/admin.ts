import { expect } from 'vitest';
import { auth, signUp, type SignedUp, type TestApp } from '../helpers/app.js';

/** A signed-up member made the first admin through the real setup-token flow. */
export async function firstAdmin(t: TestApp): Promise<SignedUp> {
  const token = await t.app.verity.admin.prepareSetupToken(t.config.dataDir);
  expect(token).toBeTruthy();
  const admin = await signUp(t);
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/setup', headers: auth(admin.token), payload: { token } });
  expect(res.statusCode).toBe(200);
  return admin;
}
