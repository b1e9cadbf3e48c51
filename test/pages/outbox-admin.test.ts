import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, createTestApp, type TestApp } from '../helpers/app.js';
import { DevOutboxTransport } from '../../src/platform/messaging/transports/dev-outbox.js';
import { control, signUpByForm, textOf, Visitor } from './form.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('the development outbox page', () => {
  it('lists captured messages newest first, with the verification link clickable', async () => {
    const { user } = await signUpByForm(t);
    await t.app.verity.outbox.drain();
    const res = await new Visitor(t).get(`/dev/outbox?to=${encodeURIComponent(user.email)}`);
    expect(res.statusCode).toBe(200);
    expect(res.body.match(/<li class="message"/g)).toHaveLength(1);
    expect(res.body).toContain(`<strong>${user.email}</strong>`);
    expect(res.body).toContain('Confirm your e-mail');
    expect(res.body).toMatch(/<a href="http:\/\/localhost:3000\/verify-email\?token=[A-Za-z0-9_-]+">/);
    expect(control(res.body, 'to')!.value).toBe(user.email);
  });

  it('says so when there is nothing for a recipient', async () => {
    const res = await new Visitor(t).get('/dev/outbox?to=nobody%40example.com');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('No messages yet.');
  });

  it('escapes message bodies and only links http(s) addresses', async () => {
    const body = 'see <script>alert(1)</script> javascript:alert(1) https://ok.example/a?b=1&c=2';
    await new DevOutboxTransport(t.db, t.clock).send({ id: randomUUID(), channel: 'email', to: 'x@example.com', subject: '<b>hi</b>', text: body, html: null });
    const res = await new Visitor(t).get('/dev/outbox?to=x%40example.com');
    expect(res.body).not.toContain('<script>alert(1)');
    expect(res.body).toContain('&lt;script&gt;');
    expect(res.body).toContain('&lt;b&gt;hi&lt;/b&gt;');
    expect(res.body).not.toMatch(/href="javascript:/);
    expect(res.body).toContain('<a href="https://ok.example/a?b=1&amp;c=2">');
  });
});

describe('the admin page', () => {
  it('offers the first-admin setup while no admin exists; a wrong token shows beside the field', async () => {
    const { visitor } = await signUpByForm(t);
    const page = await visitor.get('/admin');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Set up the first administrator');
    // The real file, as the start log names it, not a placeholder to work out.
    expect(textOf(page.body, 'setup-token-file')).toBe(join(t.config.dataDir, 'admin-setup-token'));
    expect(page.body).not.toContain('DATA_DIR/');
    const before = await countRows(t.db, 'staff_roles');
    const res = await visitor.post('/admin/setup', { token: 'wrong' });
    expect(res.statusCode).toBe(410);
    expect(textOf(res.body, 'f-token-error')).toBe('This setup token is invalid, or an administrator already exists.');
    expect(control(res.body, 'token')!['aria-invalid']).toBe('true');
    expect(res.body).not.toContain('class="form-error"'); // said once, beside the field
    expect(await countRows(t.db, 'staff_roles')).toBe(before);
  });

  it('makes the member an admin with the right token, then shows staff and service keys', async () => {
    const token = await t.app.verity.admin.prepareSetupToken(t.config.dataDir);
    expect(token).toBeTruthy();
    const { visitor, user } = await signUpByForm(t);
    await visitor.get('/admin');
    const res = await visitor.post('/admin/setup', { token: token! });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin?done=setup');
    const admin = await visitor.get('/admin?done=setup');
    expect(admin.body).toContain('You are now an administrator.');
    expect(admin.body).toContain(`${user.username} (${user.email})`);
    expect(admin.body).toContain('href="/admin"'); // the nav shows the staff link now

    const key = await visitor.post('/admin/service-keys', { name: 'billing' });
    expect(key.statusCode).toBe(201);
    expect(/data-testid="new-key">([^<]+)</.exec(key.body)?.[1]).toMatch(/.{20,}/);

    const unknown = await visitor.post('/admin/staff', { login: 'nobody-here', role: 'agent' });
    expect(unknown.statusCode).toBe(404);
    expect(textOf(unknown.body, 'f-login-error')).toBeTruthy();
    expect(control(unknown.body, 'login')!.value).toBe('nobody-here');
  });

  it('refuses the admin page to a member without a staff role once an admin exists (403 page)', async () => {
    const { visitor } = await signUpByForm(t);
    const res = await visitor.get('/admin');
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).not.toContain('Set up the first administrator');
  });
});
