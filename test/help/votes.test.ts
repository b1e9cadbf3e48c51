import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, problem, randomIp, signUp, type TestApp } from '../helpers/app.js';
import { countTable } from './support.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function visitorCookie(res: LightMyRequestResponse): string | undefined {
  const raw = res.headers['set-cookie'];
  const lines = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return lines.map((l) => l.split(';')[0]!).find((pair) => pair.startsWith('verity_visitor='));
}

function vote(slug: string, helpful: unknown, options: { cookie?: string; token?: string; ip?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.token) Object.assign(headers, auth(options.token));
  return t.app.inject({ method: 'POST', url: `/v1/help/articles/${slug}/votes`, headers, payload: { helpful }, remoteAddress: options.ip ?? randomIp() });
}

async function votesOf(slug: string) {
  return (await t.app.inject({ method: 'GET', url: `/v1/help/articles/${slug}` })).json().votes as { helpful: number; total: number };
}

describe('"Was this article helpful?" votes', () => {
  it('counts an anonymous vote and gives the visitor a signed, HttpOnly cookie', async () => {
    const res = await vote('voip-numbers', true);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ votes: { helpful: 1, total: 1 } });
    const line = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((l) => l.startsWith('verity_visitor='));
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Lax/i);
    expect(line).toMatch(/verity_visitor=[A-Za-z0-9_-]{22}\.[^;]+;/); // value.signature
    expect(await votesOf('voip-numbers')).toEqual({ helpful: 1, total: 1 });
  });

  it('keeps one vote per visitor: a second vote replaces the first', async () => {
    const first = await vote('lost-phone', true);
    const cookie = visitorCookie(first)!;
    expect(first.json().votes).toEqual({ helpful: 1, total: 1 });
    const changed = await vote('lost-phone', false, { cookie });
    expect(changed.json().votes).toEqual({ helpful: 0, total: 1 });
    const again = await vote('lost-phone', false, { cookie });
    expect(again.json().votes).toEqual({ helpful: 0, total: 1 });
    expect(visitorCookie(changed)).toBeUndefined(); // the same visitor keeps their id
    // Another visitor is another vote.
    const other = await vote('lost-phone', true);
    expect(other.json().votes).toEqual({ helpful: 1, total: 2 });
  });

  it('counts a signed-in member by account, whatever the device', async () => {
    const member = await signUp(t);
    const first = await vote('forgot-password', true, { token: member.token });
    expect(first.json().votes).toEqual({ helpful: 1, total: 1 });
    expect(visitorCookie(first)).toBeUndefined();
    const elsewhere = await vote('forgot-password', false, { token: member.token, ip: randomIp() });
    expect(elsewhere.json().votes).toEqual({ helpful: 0, total: 1 });
    const rows = await t.db.selectFrom('help_votes').selectAll().where('article_slug', '=', 'forgot-password').execute();
    expect(rows.map((r) => [r.voter, r.helpful])).toEqual([[`account:${member.id}`, false]]);
  });

  it('keeps one vote for a visitor who votes, signs in and votes again', async () => {
    const asVisitor = await vote('forgot-security-answer', true);
    const cookie = visitorCookie(asVisitor)!;
    expect(asVisitor.json().votes).toEqual({ helpful: 1, total: 1 });
    const member = await signUp(t);
    const signedIn = await vote('forgot-security-answer', false, { cookie, token: member.token });
    expect(signedIn.json().votes).toEqual({ helpful: 0, total: 1 });
    const rows = await t.db.selectFrom('help_votes').selectAll().where('article_slug', '=', 'forgot-security-answer').execute();
    expect(rows.map((r) => [r.voter, r.helpful])).toEqual([[`account:${member.id}`, false]]);
    // The visitor's votes on other articles stay theirs.
    await vote('why-we-verify-phones', true, { cookie });
    expect((await vote('forgot-security-answer', true, { cookie, token: member.token })).json().votes).toEqual({ helpful: 1, total: 1 });
    expect(await votesOf('why-we-verify-phones')).toEqual({ helpful: 1, total: 1 });
  });

  it('treats a forged or altered visitor cookie as a new visitor', async () => {
    const first = await vote('contact-support', true);
    const cookie = visitorCookie(first)!;
    const [name, value] = cookie.split('=') as [string, string];
    const [id] = value.split('.');
    for (const forged of [`${name}=${id}`, `${name}=${id}.forgedsignature`, `${name}=${'A'.repeat(22)}.${value.split('.')[1]}`]) {
      const res = await vote('contact-support', false, { cookie: forged });
      expect(res.statusCode).toBe(200);
      expect(visitorCookie(res)).toBeDefined(); // a fresh id, not the forged one
    }
    // The original visitor's "yes" was not replaced by the forgeries.
    expect(await votesOf('contact-support')).toEqual({ helpful: 1, total: 4 });
  });

  it('keeps the counts right under many concurrent votes', async () => {
    const answers = Array.from({ length: 24 }, (_, i) => i % 3 !== 0); // 16 yes, 8 no
    const results = await Promise.all(answers.map((helpful) => vote('two-step-verification-methods', helpful)));
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect(await votesOf('two-step-verification-methods')).toEqual({ helpful: 16, total: 24 });
  });

  it('keeps one vote for one visitor voting many times at once', async () => {
    const member = await signUp(t);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => vote('account-compromised', i % 2 === 0, { token: member.token })));
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    const votes = await votesOf('account-compromised');
    expect(votes.total).toBe(1);
    const row = await t.db.selectFrom('help_votes').select('helpful').where('article_slug', '=', 'account-compromised').executeTakeFirstOrThrow();
    expect(votes.helpful).toBe(row.helpful ? 1 : 0);
  });

  it('answers 404 for an unknown article and stores nothing', async () => {
    const before = await countTable(t, 'help_votes');
    for (const slug of ['no-such-article', 'UPPER']) {
      const res = await vote(slug, true);
      expect(res.statusCode).toBe(404);
      expect(problem(res).code).toBe('not_found');
    }
    expect(await countTable(t, 'help_votes')).toBe(before);
  });

  it.each([['yes'], [1], [null], [undefined]])('refuses helpful=%j with 400 and stores nothing', async (helpful) => {
    const before = await countTable(t, 'help_votes');
    const res = await vote('confirm-its-you', helpful);
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('invalid_request');
    expect(await countTable(t, 'help_votes')).toBe(before);
  });

  it('refuses unknown fields', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/help/articles/voip-numbers/votes', payload: { helpful: true, weight: 100 }, remoteAddress: randomIp() });
    expect(res.statusCode).toBe(400);
    expect(problem(res).errors?.map((e) => e.path)).toContain('/weight');
  });

  it('limits votes from one address, then lets them through in the next window', async () => {
    const ip = randomIp();
    const before = await votesOf('no-access-to-email');
    for (let i = 0; i < 30; i++) expect((await vote('no-access-to-email', true, { ip })).statusCode).toBe(200);
    const refused = await vote('no-access-to-email', true, { ip });
    expect(refused.statusCode).toBe(429);
    expect(problem(refused).code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await votesOf('no-access-to-email')).toEqual({ helpful: before.helpful + 30, total: before.total + 30 });
    t.clock.advanceSeconds(15 * 60);
    expect((await vote('no-access-to-email', true, { ip })).statusCode).toBe(200);
  });
});

describe('votes from two processes over one database', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({ database: a.database });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('count every visitor once and keep one vote per visitor, whichever process takes it', async () => {
    const post = (app: TestApp, helpful: boolean, headers: Record<string, string> = {}) =>
      app.app.inject({ method: 'POST', url: '/v1/help/articles/why-we-verify-phones/votes', headers, payload: { helpful }, remoteAddress: randomIp() });
    const member = await signUp(a);
    const results = await Promise.all([
      // 20 different visitors, half on each process: 10 yes, 10 no...
      ...Array.from({ length: 20 }, (_, i) => post(i % 2 ? a : b, i < 10)),
      // ...and one member changing their mind on both processes at once.
      ...Array.from({ length: 10 }, (_, i) => post(i % 2 ? a : b, i % 2 === 0, auth(member.token))),
    ]);
    expect(results.map((r) => r.statusCode)).toEqual(results.map(() => 200));
    const rows = await a.db.selectFrom('help_votes').select(['voter', 'helpful']).where('article_slug', '=', 'why-we-verify-phones').execute();
    expect(rows).toHaveLength(21);
    expect(rows.filter((r) => r.voter === `account:${member.id}`)).toHaveLength(1);
    const memberYes = rows.find((r) => r.voter === `account:${member.id}`)!.helpful ? 1 : 0;
    for (const app of [a, b]) {
      const votes = (await app.app.inject({ method: 'GET', url: '/v1/help/articles/why-we-verify-phones' })).json().votes;
      expect(votes).toEqual({ helpful: 10 + memberYes, total: 21 });
    }
  });
});
