import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { control, decode, signUpByForm, textOf } from '../pages/form.js';
import { count, lastCode, makeAdmin, messagesTo, phMobile } from './helpers.js';

/** /account/phone and /admin/voip-ranges as a browser without JavaScript uses them. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** The id of the account a form visitor signed up as. */
async function accountId(username: string): Promise<string> {
  return (await t.db.selectFrom('accounts').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id;
}

/** The data-countdown seconds of the resend buttons on a page. */
function countdowns(html: string): number[] {
  return [...html.matchAll(/data-countdown="(\d+)"/g)].map((m) => Number(m[1]));
}

describe('/account/phone without JavaScript', () => {
  it('sends a code, refuses an early resend, calls after the cooldown, and verifies the code heard', async () => {
    const { visitor } = await signUpByForm(t);
    const page = await visitor.get('/account/phone');
    expect(page.statusCode).toBe(200);
    // The country select starts at the account's country; the code can come by text or call.
    expect(page.body).toMatch(/<option value="PH" selected>Philippines<\/option>/);
    expect(control(page.body, 'phone')).toMatchObject({ type: 'tel', autocomplete: 'tel' });
    expect(page.body).toContain('name="channel" value="voice"');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script (strict CSP)

    const e164 = phMobile();
    const national = `0${e164.slice(3, 6)} ${e164.slice(6)}`;
    const sent = await visitor.post('/account/phone', { country: 'PH', phone: national, channel: 'sms' });
    expect(sent.statusCode, sent.body.slice(0, 500)).toBe(303);
    expect(sent.headers.location).toBe('/account/phone?done=sent');

    let shown = await visitor.get('/account/phone?done=sent');
    expect(textOf(shown.body, 'f-code-hint')).toBe('5 tries left for this code');
    expect(shown.body).toContain(`data-testid="pending-number" data-e164="${e164}">+63 ${e164.slice(3, 6)} ${e164.slice(6, 9)} ${e164.slice(9)}</strong>`);
    expect(shown.body).toMatch(/data-testid="delivery" data-status="queued"/);
    expect(countdowns(shown.body)).toEqual([30, 30]);
    expect(shown.body).toContain('You can ask for a new code in 30 seconds.');

    // Too early: back to the page (post, redirect, get), the wait said on it.
    t.clock.advanceSeconds(10);
    const early = await visitor.post('/account/phone/resend', { channel: 'voice' });
    expect([early.statusCode, early.headers.location]).toEqual([303, '/account/phone']);
    const told = await visitor.get('/account/phone');
    // Said beside the resend buttons, where the member clicked.
    expect(/data-testid="resend-error"><p>([^<]*)<\/p>/.exec(told.body)?.[1]).toBe('Please wait 20 seconds before asking for another code.');
    expect(countdowns(told.body)).toEqual([20, 20]);

    // After the cooldown the member asks for a call; the call reads the digits out one by one.
    t.clock.advanceSeconds(20);
    shown = await visitor.get('/account/phone');
    expect(countdowns(shown.body)).toEqual([0, 0]);
    const called = await visitor.post('/account/phone/resend', { channel: 'voice' });
    expect(called.headers.location).toBe('/account/phone?done=called');
    shown = await visitor.get('/account/phone?done=called');
    expect(shown.body).toContain('We are calling you now');
    expect(countdowns(shown.body)).toEqual([60, 60]);
    const [call] = await messagesTo(t, e164);
    expect(call?.channel).toBe('voice');
    const code = await lastCode(t, e164);
    expect(call?.body).toContain(code.split('').join(', '));

    const wrong = await visitor.post('/account/phone/verify', { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.headers.location).toBe('/account/phone');
    expect(textOf((await visitor.get('/account/phone')).body, 'f-code-error')).toMatch(/4 tries left/);

    const verified = await visitor.post('/account/phone/verify', { code });
    expect(verified.headers.location).toBe('/account/phone?done=verified');
    shown = await visitor.get('/account/phone?done=verified');
    expect(shown.body).toContain(`data-testid="phone-number" data-e164="${e164}">+63 ${e164.slice(3, 6)}`);
    expect(shown.body).toContain('Your phone number is verified.');
  });

  it('shows toll-free and unknown-country refusals beside the number, the input kept', async () => {
    const { visitor } = await signUpByForm(t);
    await visitor.get('/account/phone');
    const tollFree = await visitor.post('/account/phone', { country: 'US', phone: '800 555 0199', channel: 'sms' });
    expect(tollFree.statusCode).toBe(422);
    expect(textOf(tollFree.body, 'f-phone-error')).toMatch(/^This is a toll-free number, which cannot receive verification codes/);
    expect(control(tollFree.body, 'phone')!.value).toBe('800 555 0199');
    expect(tollFree.body).toMatch(/<option value="US" selected>/);

    const invalid = await visitor.post('/account/phone', { country: 'PH', phone: '+999 1234 5678', channel: 'sms' });
    expect(textOf(invalid.body, 'f-phone-error')).toBe('The country code +999 is not in use: check the digits after the +.');
  });
});

describe('/admin/voip-ranges', () => {
  it('lets an admin add and remove a range; the range then refuses numbers as VoIP', async () => {
    const { visitor, user } = await signUpByForm(t);
    await makeAdmin(t, await accountId(user.username));
    const admin = await visitor.get('/admin');
    expect(admin.body).toContain('href="/admin/voip-ranges"');

    let page = await visitor.get('/admin/voip-ranges');
    expect(page.statusCode).toBe(200);
    // The machine-to-machine defaults (migration 0007) are listed from the start.
    const defaults = await count(t, 'phone_voip_ranges');
    expect(page.body).toContain('data-kind="m2m"><td><code>+3197</code>');
    const added = await visitor.post('/admin/voip-ranges', { prefix: '+63 917 4', note: 'seen in abuse' });
    expect(added.statusCode).toBe(303);
    expect(added.headers.location).toBe('/admin/voip-ranges?done=added');
    page = await visitor.get('/admin/voip-ranges?done=added');
    expect(page.body).toMatch(/<tr data-testid="voip-range" data-kind="voip"><td><code>\+639174<\/code><\/td><td>VoIP<\/td><td>seen in abuse<\/td>/);

    // A member trying a number in the range is refused as VoIP, with the guidance.
    const { visitor: member } = await signUpByForm(t);
    await member.get('/account/phone');
    const refused = await member.post('/account/phone', { country: 'PH', phone: '+63 917 412 3456', channel: 'sms' });
    expect(refused.statusCode).toBe(422);
    expect(decode(textOf(refused.body, 'f-phone-error')!)).toBe("We can't verify VoIP numbers; please use a different, non-VoIP number.");
    expect(refused.body).toContain('data-testid="phone-voip"');

    const bad = await visitor.post('/admin/voip-ranges', { prefix: '0917', note: '' });
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad.body, 'f-prefix-error')).toMatch(/A range is \+ followed by the country code/);
    expect(control(bad.body, 'prefix')!.value).toBe('0917');

    const id = /\+639174<\/code>[\s\S]*?action="\/admin\/voip-ranges\/([0-9a-f-]{36})\/remove"/.exec(page.body)![1]!;
    await visitor.get('/admin/voip-ranges');
    const removed = await visitor.post(`/admin/voip-ranges/${id}/remove`, {});
    expect(removed.headers.location).toBe('/admin/voip-ranges?done=removed');
    expect(await count(t, 'phone_voip_ranges')).toBe(defaults);
    const events = await t.db.selectFrom('audit_events').select('event').where('event', 'like', 'phone.voip_range_%').execute();
    expect(events.map((e) => e.event).sort()).toEqual(['phone.voip_range_added', 'phone.voip_range_removed']);
  });

  it('is for admins only, and refuses a form without its CSRF token', async () => {
    const { visitor } = await signUpByForm(t);
    expect((await visitor.get('/admin/voip-ranges')).statusCode).toBe(403);
    const { visitor: admin, user } = await signUpByForm(t);
    await makeAdmin(t, await accountId(user.username));
    await admin.get('/admin/voip-ranges');
    const before = await count(t, 'phone_voip_ranges');
    const forged = await admin.post('/admin/voip-ranges', { _csrf: 'forged', prefix: '+4478930' });
    expect(forged.statusCode).toBe(403);
    expect(await count(t, 'phone_voip_ranges')).toBe(before);
  });
});
