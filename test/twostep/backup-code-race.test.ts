import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, stepUp, type TestApp } from '../helpers/app.js';
import { call } from './helpers.js';

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t.close();
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('a backup code shared by simultaneous sign-ins, over real connections', () => {
  it('two sign-ins racing with one code on a listening server: exactly one session, the other 422', async () => {
    const member = await signUp(t);
    await stepUp(t, member);
    await call(t, member, 'PUT', '/v1/me/two-step/security-question', { question: 'first_pet', answer: 'Rex' });
    const codes = (await call(t, member, 'POST', '/v1/me/two-step/backup-codes')).json().codes as string[];

    // Two devices each pass the password and hold their own challenge.
    const challenges: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const res = await post('/v1/sessions', { login: member.username, password: member.password });
      expect(res.json.status).toBe('two_step_required');
      challenges.push((res.json.challenge as { id: string }).id);
    }
    const results = await Promise.all(challenges.map((id) => post(`/v1/challenges/${id}/verify`, { method: 'backup_code', code: codes[0] })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 422]);
    expect(results.find((r) => r.status === 422)?.json.code).toBe('code_invalid');
    const sessions = await t.db.selectFrom('audit_events').select('details').where('account_id', '=', member.id).where('event', '=', 'signin.succeeded').execute();
    expect(sessions.filter((e) => e.details.method === 'backup_code')).toHaveLength(1);
    const left = await t.db.selectFrom('backup_codes').select('id').where('account_id', '=', member.id).where('used_at', 'is', null).execute();
    expect(left).toHaveLength(9);
  });
});
