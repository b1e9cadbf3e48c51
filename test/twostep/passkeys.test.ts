import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, countRows, createTestApp, problem, signUp, stepUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { auditEvents, call, changeMail, overview } from './helpers.js';

const ORIGIN = 'http://localhost:3000';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function addPasskey(member: SignedUp, name: string, authenticator = new SoftAuthenticator(ORIGIN)) {
  const started = await call(t, member, 'POST', '/v1/me/two-step/passkeys/options');
  expect(started.statusCode, started.body).toBe(200);
  const { setupId, options } = started.json();
  const res = await call(t, member, 'POST', '/v1/me/two-step/passkeys', { setupId, name, response: authenticator.register(options) });
  return { res, authenticator, options };
}

describe('passkeys (WebAuthn)', () => {
  it('offers creation options for this site: RP id and origin from PUBLIC_URL', async () => {
    const member = await signUp(t);
    const { options } = (await call(t, member, 'POST', '/v1/me/two-step/passkeys/options')).json();
    expect(options.rp).toEqual({ id: 'localhost', name: 'Verity' });
    expect(options.user.name).toBe(member.username);
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(options.attestation).toBe('none');
    expect(options.pubKeyCredParams.map((p: { alg: number }) => p.alg)).toContain(-7);
  });

  it('registers several, named; lists them; turns 2SV on; e-mails and audits each', async () => {
    const member = await signUp(t);
    const first = await addPasskey(member, 'Laptop');
    expect(first.res.statusCode, first.res.body).toBe(201);
    expect(first.res.json()).toEqual({ id: expect.any(String), name: 'Laptop', createdAt: expect.any(String), lastUsedAt: null });
    expect((await changeMail(t, member)).body).toContain('A passkey named “Laptop” was added');
    t.clock.advanceSeconds(1);
    // 2SV is on now: a second passkey is refused until this session steps up, here with the first one.
    const refused = await call(t, member, 'POST', '/v1/me/two-step/passkeys/options');
    expect(refused.statusCode).toBe(403);
    expect(problem(refused).code).toBe('step_up_required');
    await stepUp(t, member, async (challenge) => {
      expect(challenge.methods.map((m) => m.type)).toEqual(['passkey']);
      const options = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/send`, headers: auth(member.token), payload: { method: 'passkey' } });
      expect(options.statusCode, options.body).toBe(200);
      const response = first.authenticator.authenticate(options.json().options);
      const res = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, headers: auth(member.token), payload: { method: 'passkey', response } });
      expect(res.statusCode, res.body).toBe(200);
    });
    const second = await addPasskey(member, 'Security key');
    expect(second.res.statusCode).toBe(201);

    const view = await overview(t, member);
    expect(view.enabled).toBe(true);
    expect(view.methods.map((m) => m.type)).toEqual(['passkey']);
    expect(view.passkeys.map((p) => p.name)).toEqual(['Laptop', 'Security key']);
    expect((await auditEvents(t, member.id)).filter((e) => e.event === 'two_step.passkey_added')).toHaveLength(2);
    // The next registration excludes what is registered already.
    const { options } = (await call(t, member, 'POST', '/v1/me/two-step/passkeys/options')).json();
    expect(options.excludeCredentials.map((c: { id: string }) => c.id).sort()).toEqual([first.authenticator.id, second.authenticator.id].sort());
  });

  it('refuses a wrong origin, a used setup and another challenge with 422 passkey_invalid, keeping nothing', async () => {
    const member = await signUp(t);
    const before = await countRows(t.db, 'audit_events');
    const evil = new SoftAuthenticator('http://evil.example');
    const { res } = await addPasskey(member, 'Phishing', evil);
    expect(res.statusCode).toBe(422);
    expect(problem(res).code).toBe('passkey_invalid');

    const ok = new SoftAuthenticator(ORIGIN);
    const a = (await call(t, member, 'POST', '/v1/me/two-step/passkeys/options')).json();
    const b = (await call(t, member, 'POST', '/v1/me/two-step/passkeys/options')).json();
    // Answering setup b's challenge under setup a's id.
    const crossed = await call(t, member, 'POST', '/v1/me/two-step/passkeys', { setupId: a.setupId, name: 'Crossed', response: ok.register(b.options) });
    expect(crossed.statusCode).toBe(422);
    // Setup a was used up by that try.
    const reused = await call(t, member, 'POST', '/v1/me/two-step/passkeys', { setupId: a.setupId, name: 'Again', response: ok.register(a.options) });
    expect(reused.statusCode).toBe(422);
    const garbage = await call(t, member, 'POST', '/v1/me/two-step/passkeys', { setupId: b.setupId, name: 'Garbage', response: { id: 'x', response: {} } });
    expect(garbage.statusCode).toBe(422);
    expect((await overview(t, member)).enabled).toBe(false);
    expect(await t.db.selectFrom('passkeys').select('id').where('account_id', '=', member.id).execute()).toHaveLength(0);
    expect(await countRows(t.db, 'audit_events')).toBe(before);
  });

  it('signs in with any passkey, checks the signature counter and takes each challenge once', async () => {
    const member = await signUp(t);
    // Stepped up while 2SV is off (the password), so the second passkey needs no ceremony of its own here.
    await stepUp(t, member);
    const laptop = (await addPasskey(member, 'Laptop')).authenticator;
    const key = (await addPasskey(member, 'Key')).authenticator;
    const { passkeys } = t.app.verity.twoStep;

    const options = await passkeys.authenticationOptions(member.id, 'challenge-1');
    expect(options.rpId).toBe('localhost');
    expect(options.allowCredentials?.map((c) => c.id).sort()).toEqual([laptop.id, key.id].sort());
    const assertion = laptop.authenticate(options);
    expect(await passkeys.verify(member.id, 'challenge-1', assertion)).toMatchObject({ name: 'Laptop' });
    // The same assertion again: its challenge is used up.
    expect(await passkeys.verify(member.id, 'challenge-1', assertion)).toBeNull();

    // An assertion made for one challenge does not pass another.
    const forOther = await passkeys.authenticationOptions(member.id, 'challenge-2');
    expect(await passkeys.verify(member.id, 'challenge-3', key.authenticate(forOther))).toBeNull();

    // The other passkey works as well.
    expect(await passkeys.verify(member.id, 'challenge-4', key.authenticate(await passkeys.authenticationOptions(member.id, 'challenge-4')))).toMatchObject({ name: 'Key' });

    // A cloned authenticator shows up as a counter that does not move forward.
    laptop.counter = 0;
    expect(await passkeys.verify(member.id, 'challenge-5', laptop.authenticate(await passkeys.authenticationOptions(member.id, 'challenge-5')))).toBeNull();
    laptop.counter = 5;
    expect(await passkeys.verify(member.id, 'challenge-6', laptop.authenticate(await passkeys.authenticationOptions(member.id, 'challenge-6')))).toMatchObject({ name: 'Laptop' });
    const row = await t.db.selectFrom('passkeys').select(['counter', 'last_used_at']).where('credential_id', '=', laptop.id).executeTakeFirstOrThrow();
    expect(row.counter).toBe(6);
    expect(row.last_used_at).not.toBeNull();

    // Wrong origin, and another account's passkey, are refused.
    expect(await passkeys.verify(member.id, 'challenge-7', key.authenticate(await passkeys.authenticationOptions(member.id, 'challenge-7'), { origin: 'http://evil.example' }))).toBeNull();
    const other = await signUp(t);
    const otherOptions = await passkeys.authenticationOptions(other.id, 'challenge-8');
    expect(await passkeys.verify(other.id, 'challenge-8', key.authenticate(otherOptions))).toBeNull();
  });

  it('removes one passkey, then the last one turns the method off', async () => {
    const member = await signUp(t);
    await stepUp(t, member);
    const laptop = await addPasskey(member, 'Laptop');
    t.clock.advanceSeconds(1);
    const key = await addPasskey(member, 'Key');
    await call(t, member, 'POST', '/v1/me/two-step/backup-codes');

    expect((await call(t, member, 'DELETE', `/v1/me/two-step/passkeys/${laptop.res.json().id}`)).statusCode).toBe(204);
    expect((await changeMail(t, member)).body).toContain('The passkey named “Laptop” was removed');
    const { passkeys } = t.app.verity.twoStep;
    expect(await passkeys.verify(member.id, 'c', laptop.authenticator.authenticate(await passkeys.authenticationOptions(member.id, 'c')))).toBeNull();
    let view = await overview(t, member);
    expect(view.passkeys.map((p) => p.name)).toEqual(['Key']);

    // Another member cannot remove it.
    const stranger = await signUp(t);
    expect((await call(t, stranger, 'DELETE', `/v1/me/two-step/passkeys/${key.res.json().id}`)).statusCode).toBe(404);

    expect((await call(t, member, 'DELETE', `/v1/me/two-step/passkeys/${key.res.json().id}`)).statusCode).toBe(204);
    view = await overview(t, member);
    expect(view.methods.map((m) => m.type)).toEqual(['backup_code']);
    expect(view.enabled).toBe(true);
    expect((await call(t, member, 'DELETE', `/v1/me/two-step/passkeys/${key.res.json().id}`)).statusCode).toBe(404);
  });
});
