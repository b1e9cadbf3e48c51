import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noMeta } from '../../src/platform/audit.js';
import { secureRandom, type Random } from '../../src/platform/crypto.js';
import { auth, countRows, createTestApp, problem, signUp, stepUp, type TestApp } from '../helpers/app.js';
import { addAuthenticator, appCode, auditEvents, call, changeMail, overview } from './helpers.js';

// RFC 6238 appendix B, SHA-1: the seed is the ASCII string "12345678901234567890". The RFC's
// codes have 8 digits; a 6-digit code is the same number mod 10^6, its last six digits.
const RFC_SEED = Buffer.from('12345678901234567890', 'ascii');
const RFC_VECTORS: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

// The service draws its 160-bit secret from the injected random source: hand it the RFC seed.
const rfcRandom: Random = { bytes: (n) => (n === 20 ? Buffer.from(RFC_SEED) : secureRandom.bytes(n)), int: secureRandom.int };

let t: TestApp;
let rfc: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  rfc = await createTestApp({ random: rfcRandom });
});
afterAll(async () => {
  await t.close();
  await rfc.close();
});

describe('authenticator app (TOTP)', () => {
  it('passes the RFC 6238 SHA-1 test vectors through the service', async () => {
    const member = await signUp(rfc);
    const { totp } = rfc.app.verity.twoStep;
    const setup = await totp.begin(member.id);
    expect(setup.secret).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    const [[firstAt, firstCode], ...rest] = RFC_VECTORS as [[number, string], ...Array<[number, string]>];
    rfc.clock.set(new Date(firstAt * 1000));
    await totp.confirm(member.id, { setupId: setup.setupId, code: firstCode.slice(-6) }, noMeta);
    for (const [seconds, code] of rest) {
      rfc.clock.set(new Date(seconds * 1000));
      expect(await totp.verify(member.id, code.slice(-6)), `T=${seconds}`).toBe(true);
    }
  });

  it('gives a 160-bit secret, an otpauth URI with issuer Verity and the username, and an SVG QR code', async () => {
    const member = await signUp(t);
    const res = await call(t, member, 'POST', '/v1/me/two-step/totp');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/); // 32 base32 characters = 160 bits
    expect(body.otpauthUri.startsWith(`otpauth://totp/Verity:${encodeURIComponent(member.username)}?`)).toBe(true);
    const uri = new URL(body.otpauthUri);
    expect(uri.searchParams.get('issuer')).toBe('Verity');
    expect(uri.searchParams.get('secret')).toBe(body.secret);
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(body.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    // Sealed at rest: the database never holds the secret itself.
    const row = await t.db.selectFrom('totp_credentials').select('secret_sealed').where('account_id', '=', member.id).executeTakeFirstOrThrow();
    expect(row.secret_sealed).not.toContain(body.secret);
    expect(row.secret_sealed.split('.')).toHaveLength(3);
  });

  it('counts only once a first code confirms it; a wrong code changes nothing', async () => {
    const member = await signUp(t);
    const { setupId, secret } = (await call(t, member, 'POST', '/v1/me/two-step/totp')).json();
    expect((await overview(t, member)).enabled).toBe(false);
    const outboxBefore = await countRows(t.db, 'outbox');

    const wrong = await call(t, member, 'POST', '/v1/me/two-step/totp/confirm', { setupId, code: appCode(t, secret, 3) });
    expect(wrong.statusCode).toBe(422);
    expect(problem(wrong).code).toBe('code_invalid');
    expect((await overview(t, member)).enabled).toBe(false);
    expect(await countRows(t.db, 'outbox')).toBe(outboxBefore);
    expect(await t.app.verity.twoStep.totp.verify(member.id, appCode(t, secret))).toBe(false);

    const ok = await call(t, member, 'POST', '/v1/me/two-step/totp/confirm', { setupId, code: appCode(t, secret) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().enabled).toBe(true);
    expect(ok.json().methods.map((m: { type: string }) => m.type)).toEqual(['totp']);
    const events = (await auditEvents(t, member.id)).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['two_step.method_added', 'two_step.enabled']));
    const mail = await changeMail(t, member);
    expect(mail.subject).toBe('Two-step verification is now on for your Verity account');
    expect(mail.body).toContain('An authenticator app was added');
  });

  it('refuses a setup that expired or was already confirmed', async () => {
    const member = await signUp(t);
    const { setupId, secret } = (await call(t, member, 'POST', '/v1/me/two-step/totp')).json();
    t.clock.advanceSeconds(16 * 60);
    const late = await call(t, member, 'POST', '/v1/me/two-step/totp/confirm', { setupId, code: appCode(t, secret) });
    expect(late.statusCode).toBe(404);
    expect((await overview(t, member)).enabled).toBe(false);

    // Stepped up now (2SV is off: the password), so asking again once 2SV is on gets past the step-up.
    await stepUp(t, member);
    const again = (await call(t, member, 'POST', '/v1/me/two-step/totp')).json();
    expect((await call(t, member, 'POST', '/v1/me/two-step/totp/confirm', { setupId: again.setupId, code: appCode(t, again.secret) })).statusCode).toBe(200);
    t.clock.advanceSeconds(30);
    expect((await call(t, member, 'POST', '/v1/me/two-step/totp/confirm', { setupId: again.setupId, code: appCode(t, again.secret) })).statusCode).toBe(404);
  });

  it('refuses a replayed code: each time step is accepted once per account', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    const { totp } = t.app.verity.twoStep;
    // The confirming code's step is used up too.
    expect(await totp.verify(member.id, appCode(t, secret))).toBe(false);
    t.clock.advanceSeconds(30);
    const code = appCode(t, secret);
    expect(await totp.verify(member.id, code)).toBe(true);
    expect(await totp.verify(member.id, code)).toBe(false);
    // Two requests racing with one code: one wins.
    t.clock.advanceSeconds(30);
    const racing = appCode(t, secret);
    const results = await Promise.all([totp.verify(member.id, racing), totp.verify(member.id, racing), totp.verify(member.id, racing)]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('accepts a code one step early or late and refuses two steps either way', async () => {
    const member = await signUp(t);
    const secret = await addAuthenticator(t, member);
    const { totp } = t.app.verity.twoStep;
    t.clock.advanceSeconds(5 * 30);
    expect(await totp.verify(member.id, appCode(t, secret, -2))).toBe(false);
    expect(await totp.verify(member.id, appCode(t, secret, 2))).toBe(false);
    expect(await totp.verify(member.id, appCode(t, secret, -1))).toBe(true);
    t.clock.advanceSeconds(3 * 30);
    expect(await totp.verify(member.id, appCode(t, secret, 1))).toBe(true);
    // Once a later step was used, the earlier ones are gone too.
    expect(await totp.verify(member.id, appCode(t, secret, 0))).toBe(false);
    expect(await totp.verify(member.id, 'abcdef')).toBe(false);
  });

  it('replaces the app with a new one, and turns 2SV off when removed as the last method', async () => {
    const member = await signUp(t);
    const first = await addAuthenticator(t, member);
    t.clock.advanceSeconds(60);
    // 2SV is on: replacing the app needs a step-up, passed with the app being replaced.
    await stepUp(t, member, async (challenge) => {
      const res = await t.app.inject({ method: 'POST', url: `/v1/challenges/${challenge.id}/verify`, headers: auth(member.token), payload: { method: 'totp', code: appCode(t, first) } });
      expect(res.statusCode, res.body).toBe(200);
    });
    const second = await addAuthenticator(t, member);
    expect((await overview(t, member)).methods).toHaveLength(1);
    t.clock.advanceSeconds(60);
    expect(await t.app.verity.twoStep.totp.verify(member.id, appCode(t, first))).toBe(false);
    expect(await t.app.verity.twoStep.totp.verify(member.id, appCode(t, second))).toBe(true);
    expect((await auditEvents(t, member.id)).map((e) => e.event)).toContain('two_step.method_changed');

    const removed = await call(t, member, 'DELETE', '/v1/me/two-step/totp');
    expect(removed.statusCode).toBe(204);
    const after = await overview(t, member);
    expect(after.enabled).toBe(false);
    expect(after.recommendation?.code).toBe('turn_on');
    expect(await countRows(t.db, 'audit_events')).toBeGreaterThan(0);
    expect((await auditEvents(t, member.id)).map((e) => e.event)).toContain('two_step.disabled');
    expect((await changeMail(t, member)).subject).toBe('Two-step verification is now off for your Verity account');
    expect((await call(t, member, 'DELETE', '/v1/me/two-step/totp')).statusCode).toBe(404);
  });
});
