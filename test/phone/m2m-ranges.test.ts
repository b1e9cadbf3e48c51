import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, problem, signUp, type TestApp } from '../helpers/app.js';
import { decode, signUpByForm, textOf } from '../pages/form.js';
import { count, makeAdmin, phMobile, startPhone } from './helpers.js';

/** Machine-to-machine numbers are issued to devices, so they cannot prove a person. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const dutchM2m = '+31 970 123 45678'; // the numbering plan calls +31 970… mobile

async function admin() {
  const who = await signUp(t);
  await makeAdmin(t, who.id);
  return who;
}

async function ranges(token: string) {
  const res = await t.app.inject({ method: 'GET', url: '/v1/admin/phone/voip-ranges', headers: auth(token) });
  expect(res.statusCode).toBe(200);
  return res.json() as Array<{ id: string; prefix: string; kind: string; note: string | null }>;
}

describe('machine-to-machine ranges', () => {
  it("refuses the Netherlands' +3197 numbers as M2M out of the box, sending and storing nothing", async () => {
    const member = await signUp(t, { country: 'NL' });
    const before = [await count(t, 'phone_verifications'), await count(t, 'outbox')];
    const res = await startPhone(t, member, { phone: dutchM2m });
    expect(res.statusCode, res.body).toBe(422);
    expect(problem(res)).toMatchObject({ code: 'phone_type_unsupported', lineType: 'M2M' });
    expect(problem(res).detail).toMatch(/^This is a machine-to-machine number, issued to a device .* rather than to a person/);
    expect([await count(t, 'phone_verifications'), await count(t, 'outbox')]).toEqual(before);
    // An ordinary Dutch mobile is fine.
    expect((await startPhone(t, member, { phone: '+31 6 12345678' })).statusCode).toBe(202);
  });

  it('lists the defaults with their kind; operators add and remove M2M ranges like VoIP ones', async () => {
    const operator = await admin();
    const listed = await ranges(operator.token);
    expect(listed.find((r) => r.prefix === '+3197')).toMatchObject({ kind: 'm2m', note: expect.stringMatching(/Netherlands/) });

    // A range the plan calls mobile, refused once listed as M2M.
    const number = phMobile();
    const add = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/phone/voip-ranges',
      headers: auth(operator.token),
      payload: { prefix: number.slice(0, 8), kind: 'm2m', note: 'fleet trackers' },
    });
    expect(add.statusCode, add.body).toBe(201);
    expect(add.json()).toMatchObject({ prefix: number.slice(0, 8), kind: 'm2m' });
    const refused = await startPhone(t, await signUp(t), { phone: number });
    expect(problem(refused)).toMatchObject({ code: 'phone_type_unsupported', lineType: 'M2M' });

    // VoIP stays the default kind.
    const voip = await t.app.inject({ method: 'POST', url: '/v1/admin/phone/voip-ranges', headers: auth(operator.token), payload: { prefix: '+6391755' } });
    expect(voip.json().kind).toBe('voip');
    // A longer prefix decides over a shorter one of the other kind.
    await t.app.inject({ method: 'POST', url: '/v1/admin/phone/voip-ranges', headers: auth(operator.token), payload: { prefix: '+63917551', kind: 'm2m' } });
    expect(problem(await startPhone(t, await signUp(t), { phone: '+639175512345' })).lineType).toBe('M2M');
    expect(problem(await startPhone(t, await signUp(t), { phone: '+639175522345' })).code).toBe('phone_voip');

    // The defaults are editable: without +3197 the plan's verdict stands.
    const dutch = listed.find((r) => r.prefix === '+3197')!;
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/admin/phone/voip-ranges/${dutch.id}`, headers: auth(operator.token) });
    expect(del.statusCode).toBe(204);
    expect((await startPhone(t, await signUp(t, { country: 'NL' }), { phone: dutchM2m })).statusCode).toBe(202);
    const audit = await t.db.selectFrom('audit_events').select('details').where('actor_id', '=', operator.id).where('event', '=', 'phone.voip_range_removed').executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ prefix: '+3197', kind: 'm2m' });
  });

  it('refuses an unknown kind with 400 and stores nothing', async () => {
    const operator = await admin();
    const before = await count(t, 'phone_voip_ranges');
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/phone/voip-ranges', headers: auth(operator.token), payload: { prefix: '+4478930', kind: 'fax' } });
    expect(res.statusCode).toBe(400);
    expect(await count(t, 'phone_voip_ranges')).toBe(before);
  });
});

describe('/admin/voip-ranges and /account/phone without JavaScript', () => {
  it('shows each range with its kind, adds an M2M range by form, and refuses a made-up kind beside the field', async () => {
    const { visitor, user } = await signUpByForm(t);
    const id = (await t.db.selectFrom('accounts').select('id').where('username', '=', user.username).executeTakeFirstOrThrow()).id;
    await makeAdmin(t, id);
    let page = await visitor.get('/admin/voip-ranges');
    expect(page.body).toMatch(/<tr data-testid="voip-range" data-kind="m2m"><td><code>\+4758<\/code><\/td><td>Machine-to-machine<\/td>/);

    const added = await visitor.post('/admin/voip-ranges', { prefix: '+63 998 7', kind: 'm2m', note: '' });
    expect(added.headers.location).toBe('/admin/voip-ranges?done=added');
    page = await visitor.get('/admin/voip-ranges?done=added');
    expect(page.body).toMatch(/data-kind="m2m"><td><code>\+639987<\/code>/);

    const before = await count(t, 'phone_voip_ranges');
    const bad = await visitor.post('/admin/voip-ranges', { prefix: '+63 998 8', kind: 'fax', note: '' });
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad.body, 'f-kind-error')).toBe('Choose one of: voip, m2m.');
    expect(await count(t, 'phone_voip_ranges')).toBe(before);

    const { visitor: member } = await signUpByForm(t);
    await member.get('/account/phone');
    const refused = await member.post('/account/phone', { country: 'PH', phone: '+63 998 712 3456', channel: 'sms' });
    expect(refused.statusCode).toBe(422);
    expect(decode(textOf(refused.body, 'f-phone-error')!)).toMatch(/^This is a machine-to-machine number/);
  });
});
