import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { control, signUpByForm, textOf } from './form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('the account page', () => {
  it('shows the profile and saves changes with a 303 back to the page and a confirmation', async () => {
    const { visitor, user } = await signUpByForm(t);
    const page = await visitor.get('/account');
    expect(/data-testid="username">([^<]*)</.exec(page.body)?.[1]).toBe(user.username);
    expect(page.body).toContain(user.email);
    const res = await visitor.post('/account', { fullName: 'Ana Reyes', country: 'GB', roles: ['client', 'agency'] });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/account?saved=1');
    const after = await visitor.get('/account?saved=1');
    expect(after.body).toContain('Your changes are saved.');
    expect(control(after.body, 'fullName')!.value).toBe('Ana Reyes');
    expect(after.body).toMatch(/<option value="GB" selected>/);
    expect(after.body).toMatch(/value="agency" checked/);
    const row = await t.db.selectFrom('accounts').select(['full_name', 'country', 'roles']).where('username', '=', user.username).executeTakeFirstOrThrow();
    expect(row).toEqual({ full_name: 'Ana Reyes', country: 'GB', roles: ['client', 'agency'] });
  });

  it('refuses a profile with no role: the error beside the roles, the input kept, nothing changed', async () => {
    const { visitor, user } = await signUpByForm(t);
    await visitor.get('/account');
    const res = await visitor.post('/account', { fullName: 'Kept Name', country: 'PH' });
    expect(res.statusCode).toBe(400);
    expect(textOf(res.body, 'f-roles-error')).toBeTruthy();
    expect(res.body).toContain('aria-describedby="f-roles-error"');
    expect(control(res.body, 'fullName')!.value).toBe('Kept Name');
    const row = await t.db.selectFrom('accounts').select(['full_name', 'roles']).where('username', '=', user.username).executeTakeFirstOrThrow();
    expect(row).toEqual({ full_name: null, roles: ['freelancer'] });
  });

  it('escapes what members typed wherever it is shown again', async () => {
    const { visitor } = await signUpByForm(t);
    await visitor.get('/account');
    await visitor.post('/account', { fullName: '"><script>alert(1)</script>', country: 'PH', roles: 'client' });
    const page = await visitor.get('/account');
    expect(page.body).not.toContain('<script>alert(1)');
    expect(control(page.body, 'fullName')!.value).toBe('"><script>alert(1)</script>');
  });
});
