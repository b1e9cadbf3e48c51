import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, problem, randomIp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const MARKER = 'secret-marker';

/** A problem document that says nothing of the address it was asked for. */
function expectBareProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = problem(res);
  expect(body).toMatchObject({ status, code, type: `/problems/${code}` });
  expect(body.detail.length).toBeGreaterThan(0);
  expect(res.body).not.toContain(MARKER);
  expect(res.body).not.toContain('FST_');
  return body;
}

describe("the router's own refusals are problem documents that do not echo the URL", () => {
  it.each([
    ['GET', '/v1/help/articles/'],
    ['GET', '/help/'],
    ['DELETE', '/v1/sessions/'],
    ['GET', '/admin/articles/'],
  ] as const)('an over-long path parameter on %s %s: 414 uri_too_long', async (method, prefix) => {
    const res = await t.app.inject({ method, url: `${prefix}${MARKER}${'a'.repeat(300)}` });
    expectBareProblem(res, 414, 'uri_too_long');
  });

  it.each(['/v1/help/articles/', '/help/', '/account/security/sessions/'])('a broken percent-escape under %s: 400 invalid_request', async (prefix) => {
    const res = await t.app.inject({ method: 'GET', url: `${prefix}%E0%A4%A${MARKER}` });
    const body = expectBareProblem(res, 400, 'invalid_request');
    expect(body.errors).toEqual([{ path: '/', message: expect.stringMatching(/percent-escape/) }]);
  });

  it('malformed JSON: 400 invalid_request, without the parser message', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'content-type': 'application/json' }, payload: `{"login": "${MARKER}`, remoteAddress: randomIp() });
    expectBareProblem(res, 400, 'invalid_request');
  });
});

describe("the Twilio webhook's refusals state its own limits", () => {
  const url = '/v1/webhooks/sms/twilio';

  it('413 names its 64 KiB limit, not the JSON API 1 MiB', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `MessageSid=${'a'.repeat(70 * 1024)}`,
      remoteAddress: randomIp(),
    });
    const body = expectBareProblem(res, 413, 'payload_too_large');
    expect(body.detail).toBe('A Twilio status callback is at most 64 KiB.');
  });

  it('415 asks for a form-encoded body, not JSON', async () => {
    const res = await t.app.inject({ method: 'POST', url, payload: { MessageSid: 'SM1' }, remoteAddress: randomIp() });
    const body = expectBareProblem(res, 415, 'unsupported_media_type');
    expect(body.detail).toBe('Send Twilio status callbacks as application/x-www-form-urlencoded.');
  });

  it('the JSON API keeps its own sentences', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'content-type': 'text/xml' }, payload: '<x/>', remoteAddress: randomIp() });
    expect(problem(res).detail).toBe('Send the request body as application/json.');
  });
});
