import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { signUpAdmin, type SignedUpAdmin } from '../help/support.js';
import { Visitor } from '../pages/form.js';
import { feedWith, noticesFor, putFeed } from './support.js';

// Two apps over one database, as two server processes behind a load balancer.
let a: TestApp;
let b: TestApp;
let admin: SignedUpAdmin;
beforeAll(async () => {
  a = await createTestApp();
  b = await createTestApp({ database: a.database });
  admin = await signUpAdmin(a);
});
afterAll(async () => {
  await b.close();
  await a.close();
});

describe('a feed change reaches every process', () => {
  it('within 5 seconds, even where the old feed was just read', async () => {
    await putFeed(a, admin.token, feedWith([], { message: 'First' }));
    b.clock.advanceSeconds(5);
    expect((await noticesFor(b, ''))[0]?.message).toBe('First'); // b has now read (and may keep) "First"

    const changed = await putFeed(a, admin.token, feedWith([], { message: 'Second' }));
    expect(changed.statusCode).toBe(200);
    expect((await noticesFor(a, ''))[0]?.message).toBe('Second'); // the writing process at once

    b.clock.advanceSeconds(5);
    expect((await noticesFor(b, ''))[0]?.message).toBe('Second');
    const page = await new Visitor(b).get('/');
    expect(page.body).toContain('Second');
    expect((await b.app.inject({ method: 'GET', url: '/v1/notices/feed' })).json().global.message).toBe('Second');
  });

  it('keeps serving from memory between reads (no query per page)', async () => {
    await putFeed(a, admin.token, feedWith([], { message: 'Cached' }));
    b.clock.advanceSeconds(5);
    expect((await noticesFor(b, ''))[0]?.message).toBe('Cached');
    // Changed behind b's back without moving b's clock: b keeps its copy for a moment...
    await putFeed(a, admin.token, feedWith([], { message: 'Later' }));
    expect((await noticesFor(b, ''))[0]?.message).toBe('Cached');
    // ...and no longer than the promised 5 seconds.
    b.clock.advanceSeconds(5);
    expect((await noticesFor(b, ''))[0]?.message).toBe('Later');
  });
});
