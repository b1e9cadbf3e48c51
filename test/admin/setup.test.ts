import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SETUP_TOKEN_FILE, SETUP_TOKEN_LIFETIME_SECONDS } from '../../src/admin/service.js';
import { auth, countRows, createTestApp, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});
// Each test starts as a fresh installation: no admin, no setup token, new limit windows.
beforeEach(async () => {
  await t.db.deleteFrom('staff_roles').execute();
  await t.db.deleteFrom('admin_setup_tokens').execute();
  t.clock.advanceSeconds(3600);
});

function setup(token: string, sessionToken?: string, ip = randomIp()) {
  return t.app.inject({ method: 'POST', url: '/v1/admin/setup', headers: sessionToken ? auth(sessionToken) : {}, payload: { token }, remoteAddress: ip });
}

async function staffRoles(sessionToken: string): Promise<string[]> {
  return (await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(sessionToken) })).json().staffRoles;
}

describe('first admin setup', () => {
  it('writes a one-time token to DATA_DIR/admin-setup-token; the signed-in caller who posts it becomes admin', async () => {
    const token = await t.app.verity.admin.prepareSetupToken(t.config.dataDir);
    const file = join(t.config.dataDir, SETUP_TOKEN_FILE);
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    expect(statSync(file).mode & 0o077).toBe(0);
    // Only a hash of it is kept in the database.
    const stored = JSON.stringify(await t.db.selectFrom('admin_setup_tokens').selectAll().execute());
    expect(stored).not.toContain(token!);

    const member = await signUp(t);
    expect(await staffRoles(member.token)).toEqual([]);
    const res = await setup(token!, member.token);
    expect(res.statusCode).toBe(200);
    expect(await staffRoles(member.token)).toEqual(['admin']);
    const audit = await t.db.selectFrom('audit_events').selectAll().where('account_id', '=', member.id).where('event', '=', 'staff.setup').execute();
    expect(audit).toHaveLength(1);
    // The used token is gone from disk and cannot be used again.
    expect(existsSync(file)).toBe(false);
    const other = await signUp(t);
    const again = await setup(token!, other.token);
    expect(again.statusCode).toBe(410);
    expect(problem(again).code).toBe('token_invalid');
    expect(await staffRoles(other.token)).toEqual([]);
  });

  it('refuses a wrong token with 410 token_invalid and makes no one admin', async () => {
    const token = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    const member = await signUp(t);
    const wrong = [token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), 'x', token.toLowerCase() === token ? token.toUpperCase() : token.toLowerCase()];
    for (const guess of wrong) {
      const res = await setup(guess, member.token);
      expect(res.statusCode).toBe(410);
      expect(problem(res).code).toBe('token_invalid');
    }
    expect(await countRows(t.db, 'staff_roles')).toBe(0);
    // The real token still works after wrong guesses.
    expect((await setup(token, member.token)).statusCode).toBe(200);
  });

  it('needs a signed-in caller', async () => {
    const token = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    const res = await setup(token);
    expect(res.statusCode).toBe(401);
    expect(await countRows(t.db, 'staff_roles')).toBe(0);
  });

  it('answers 410 once an admin exists, and no new token is issued then', async () => {
    const first = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    const admin = await signUp(t);
    expect((await setup(first, admin.token)).statusCode).toBe(200);
    expect(await t.app.verity.admin.prepareSetupToken(t.config.dataDir)).toBeNull();
    expect(existsSync(join(t.config.dataDir, SETUP_TOKEN_FILE))).toBe(false);
    const late = await signUp(t);
    const res = await setup(first, late.token);
    expect(res.statusCode).toBe(410);
    expect(await staffRoles(late.token)).toEqual([]);
  });

  it('keeps the same token across restarts while it is live; once it has expired a start writes a new one', async () => {
    const first = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    const file = join(t.config.dataDir, SETUP_TOKEN_FILE);
    t.clock.advanceSeconds(SETUP_TOKEN_LIFETIME_SECONDS - 60);
    expect(await t.app.verity.admin.prepareSetupToken(t.config.dataDir)).toBe(first);
    expect(readFileSync(file, 'utf8').trim()).toBe(first);

    // A day after it was written it no longer works, and the next start replaces it.
    t.clock.advanceSeconds(120);
    const member = await signUp(t);
    const expired = await setup(first, member.token);
    expect(expired.statusCode).toBe(410);
    expect(problem(expired).code).toBe('token_invalid');
    const fresh = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    expect(fresh).not.toBe(first);
    expect(readFileSync(file, 'utf8').trim()).toBe(fresh);
    expect((await setup(first, member.token)).statusCode).toBe(410);
    expect((await setup(fresh, member.token)).statusCode).toBe(200);
  });

  it('writes the live token again when the file was deleted', async () => {
    const first = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    const file = join(t.config.dataDir, SETUP_TOKEN_FILE);
    rmSync(file);
    expect(await t.app.verity.admin.prepareSetupToken(t.config.dataDir)).toBe(first);
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    const member = await signUp(t);
    expect((await setup(first, member.token)).statusCode).toBe(200);
  });

  it('another process, with a DATA_DIR of its own, writes the same token; it works once', async () => {
    const first = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    const otherDir = mkdtempSync(join(tmpdir(), 'verity-setup-'));
    try {
      expect(await t.app.verity.admin.prepareSetupToken(otherDir)).toBe(first);
      expect(readFileSync(join(otherDir, SETUP_TOKEN_FILE), 'utf8').trim()).toBe(first);
      // And the first folder's token still works: the second start did not replace it.
      expect(await t.app.verity.admin.prepareSetupToken(t.config.dataDir)).toBe(first);
      const [one, two] = [await signUp(t), await signUp(t)];
      expect((await setup(first, one.token)).statusCode).toBe(200);
      expect((await setup(first, two.token)).statusCode).toBe(410);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('replaces a token it cannot have made (another SECRET_KEY, or a row from before)', async () => {
    await t.db.insertInto('admin_setup_tokens').values({ id: 1, token_hash: 'ab'.repeat(32), nonce: null, created_at: t.clock.now() }).execute();
    const fresh = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    const member = await signUp(t);
    expect((await setup(fresh, member.token)).statusCode).toBe(200);
  });

  it('lets only one of several concurrent setups win', async () => {
    const token = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    const members = await Promise.all([signUp(t), signUp(t), signUp(t), signUp(t)]);
    const results = await Promise.all(members.map((m) => setup(token, m.token)));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 410, 410, 410]);
    const admins = await t.db.selectFrom('staff_roles').select('account_id').where('role', '=', 'admin').execute();
    expect(admins).toHaveLength(1);
    const winner = members[results.findIndex((r) => r.statusCode === 200)]!;
    expect(admins[0]!.account_id).toBe(winner.id);
  });

  it('limits token guesses per IP', async () => {
    const token = (await t.app.verity.admin.prepareSetupToken(t.config.dataDir))!;
    const member = await signUp(t);
    const ip = randomIp();
    for (let i = 0; i < 10; i++) expect((await setup(`guess-${i}`, member.token, ip)).statusCode).toBe(410);
    const limited = await setup(token, member.token, ip);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(await countRows(t.db, 'staff_roles')).toBe(0);
  });
});
