import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, createTestApp, lastMessage, linkToken, signUp, uniqueUser, type TestApp } from '../helpers/app.js';
import { control, signUpByForm, textOf, Visitor } from './form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('the sign-up page', () => {
  it('labels every field, names them as the API does, and has one submit button', async () => {
    const res = await new Visitor(t).get('/signup');
    expect(res.statusCode).toBe(200);
    for (const name of ['email', 'username', 'password', 'country', 'fullName']) {
      const attrs = control(res.body, name);
      expect(attrs, name).toBeDefined();
      expect(res.body).toContain(`<label for="${attrs!.id}"`);
    }
    expect(res.body).toMatch(/<input type="checkbox" name="roles" value="freelancer" checked>/);
    const form = /<form method="post" action="\/signup"[\s\S]*?<\/form>/.exec(res.body)![0];
    expect(form.match(/<button/g)).toHaveLength(1);
    expect(form).toMatch(/<input type="hidden" name="_csrf" value="[^"]+">/);
  });

  it('creates the account, sets an HttpOnly SameSite=Lax session cookie and redirects (303) to /account', async () => {
    const visitor = new Visitor(t);
    const user = { ...uniqueUser('form'), roles: ['client', 'agency'], fullName: 'Ana Reyes' };
    await visitor.get('/signup');
    const before = await countRows(t.db, 'accounts');
    const res = await visitor.post('/signup', user);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account');
    expect(await countRows(t.db, 'accounts')).toBe(before + 1);

    const cookie = visitor.lastSetCookies.get('verity_session')!;
    expect(cookie).toMatch(/^verity_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//i);
    expect(cookie).not.toMatch(/; Secure/i); // development; production sets Secure (below)

    const account = await visitor.get('/account');
    expect(account.statusCode).toBe(200);
    expect(/data-testid="username">([^<]*)</.exec(account.body)?.[1]).toBe(user.username);
    expect(account.body).toContain('Ana Reyes');
    expect(control(account.body, 'roles')).toBeDefined();
    expect(account.body).toMatch(/value="client" checked/);
    expect(account.body).toMatch(/value="agency" checked/);
    expect(account.body).not.toMatch(/value="freelancer" checked/);
    expect((await lastMessage(t, user.email))?.subject).toContain('Confirm your e-mail');
  });

  it('re-renders a taken username with 409, the detail beside the field, the e-mail kept and the password not echoed', async () => {
    const taken = await signUp(t);
    const visitor = new Visitor(t);
    const user = uniqueUser('form');
    await visitor.get('/signup');
    const before = await countRows(t.db, 'accounts');
    const res = await visitor.post('/signup', { ...user, username: taken.username });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(textOf(res.body, 'f-username-error')).toBe('This username is taken. Please choose another.');
    const username = control(res.body, 'username')!;
    expect(username['aria-invalid']).toBe('true');
    expect(username['aria-describedby']).toContain('f-username-error');
    expect(username.value).toBe(taken.username);
    expect(control(res.body, 'email')!.value).toBe(user.email);
    expect(control(res.body, 'password')!.value).toBe('');
    expect(res.body).not.toContain(user.password);
    expect(control(res.body, 'email')!['aria-invalid']).toBeUndefined();
    expect(res.body).not.toContain('class="form-error"'); // the message is beside the field, not repeated
    expect(visitor.cookies.has('verity_session')).toBe(false);
    expect(await countRows(t.db, 'accounts')).toBe(before);
  });

  it('re-renders a taken e-mail with 409 beside the e-mail field', async () => {
    const taken = await signUp(t);
    const visitor = new Visitor(t);
    await visitor.get('/signup');
    const res = await visitor.post('/signup', { ...uniqueUser('form'), email: taken.email });
    expect(res.statusCode).toBe(409);
    expect(textOf(res.body, 'f-email-error')).toContain('An account already uses this e-mail.');
    expect(control(res.body, 'email')!['aria-invalid']).toBe('true');
  });

  it('re-renders a weak password with 422 and the reasons beside the password field', async () => {
    const visitor = new Visitor(t);
    const user = { ...uniqueUser('form'), password: 'password123', roles: ['client'] };
    await visitor.get('/signup');
    const before = await countRows(t.db, 'accounts');
    const res = await visitor.post('/signup', user);
    expect(res.statusCode).toBe(422);
    expect(textOf(res.body, 'f-password-error')).toContain('This is a commonly used password.');
    const password = control(res.body, 'password')!;
    expect(password['aria-invalid']).toBe('true');
    expect(password['aria-describedby']).toBe('f-password-hint f-password-error');
    expect(password.value).toBe('');
    expect(res.body).not.toContain('value="password123"');
    expect(control(res.body, 'username')!.value).toBe(user.username);
    expect(res.body).toMatch(/value="client" checked/);
    expect(res.body).toMatch(/<option value="PH" selected>/);
    expect(await countRows(t.db, 'accounts')).toBe(before);
  });

  it.each([
    [{ email: 'not-an-email' }, 'email'],
    [{ username: 'ab' }, 'username'],
    [{ country: '' }, 'country'],
    [{ roles: [] as string[] }, 'roles'],
  ])('shows %j as an error beside its field (400), changing nothing', async (change, name) => {
    const visitor = new Visitor(t);
    await visitor.get('/signup');
    const before = await countRows(t.db, 'accounts');
    const res = await visitor.post('/signup', { ...uniqueUser('form'), ...change });
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, `f-${name}-error`)).toBeTruthy();
    expect(res.body).toMatch(new RegExp(`aria-describedby="[^"]*f-${name}-error"`));
    expect(await countRows(t.db, 'accounts')).toBe(before);
  });

  it('sends a signed-in member from /signup to /account', async () => {
    const { visitor } = await signUpByForm(t);
    const res = await visitor.get('/signup');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account');
  });
});

describe('e-mail verification page', () => {
  it('verifies with a good link, then answers 410 for the used link', async () => {
    const { user } = await signUpByForm(t);
    const token = linkToken((await lastMessage(t, user.email))!.body, 'verify-email?token');
    const ok = await new Visitor(t).get(`/verify-email?token=${token}`);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('E-mail verified');
    const again = await new Visitor(t).get(`/verify-email?token=${token}`);
    expect(again.statusCode).toBe(410);
    expect(again.body).toContain('Link expired or invalid');
    expect(again.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('answers 410 for a missing or made-up token', async () => {
    expect((await new Visitor(t).get('/verify-email')).statusCode).toBe(410);
    expect((await new Visitor(t).get('/verify-email?token=made-up')).statusCode).toBe(410);
  });

  it('shows the account as verified afterwards', async () => {
    const { visitor, user } = await signUpByForm(t);
    expect((await visitor.get('/account')).body).toContain('not verified');
    const token = linkToken((await lastMessage(t, user.email))!.body, 'verify-email?token');
    await visitor.get(`/verify-email?token=${token}`);
    const account = await visitor.get('/account');
    expect(account.body).not.toContain('not verified');
    expect(account.body).not.toContain('action="/account/email-verification"');
  });

  it('sends a new link from the account page; the old one stops working', async () => {
    const { visitor, user } = await signUpByForm(t);
    const first = linkToken((await lastMessage(t, user.email))!.body, 'verify-email?token');
    await visitor.get('/account');
    t.clock.advanceSeconds(1); // so the outbox lists the new message first
    const res = await visitor.post('/account/email-verification', {});
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account?sent=1');
    expect((await visitor.get('/account?sent=1')).body).toContain('We sent a new verification link');
    const second = linkToken((await lastMessage(t, user.email))!.body, 'verify-email?token');
    expect(second).not.toBe(first);
    expect((await new Visitor(t).get(`/verify-email?token=${first}`)).statusCode).toBe(410);
    expect((await new Visitor(t).get(`/verify-email?token=${second}`)).statusCode).toBe(200);
  });
});
