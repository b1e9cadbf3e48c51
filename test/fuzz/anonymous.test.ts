import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { faults, runFuzz, runsPerFile, SEED, startFuzz, type Fuzz } from './harness.js';

// Hostile requests to every operation and form, as anonymous. See harness.ts.
let fuzz: Fuzz;
beforeAll(async () => {
  fuzz = await startFuzz(['anonymous']);
});
afterAll(async () => {
  await fuzz.close();
});

it('answers every hostile request below 500, with a problem document, and a refusal changes nothing', async () => {
  const started = Date.now();
  const result = await runFuzz(fuzz, runsPerFile(4));
  console.log(`fuzz anonymous: ${result.runs} cases over ${fuzz.ops.length} operations in ${Date.now() - started} ms (requests ${Math.round(result.timing.inject)} ms, digests ${Math.round(result.timing.digest)} ms), seed ${SEED}, statuses ${JSON.stringify(result.statuses)}`);
  expect(result.survey).toEqual([]);
}, 600_000);

it('has a digest that sees a changed row, and not an update that wrote the same values', async () => {
  await fuzz.digest.changes();
  await sql`UPDATE accounts SET full_name = full_name`.execute(fuzz.t.db);
  expect(await fuzz.digest.changes()).toEqual([]);
  await sql`UPDATE accounts SET full_name = 'Changed by the test' WHERE id = (SELECT id FROM accounts LIMIT 1)`.execute(fuzz.t.db);
  expect(await fuzz.digest.changes()).toEqual(['accounts']);
  expect(fuzz.digest.tables).toEqual(expect.arrayContaining(['accounts', 'sessions', 'audit_events', 'outbox', 'challenges']));
  expect(fuzz.digest.tables).not.toContain('rate_limit_counters');
});

it('calls a 500, a JSON error that is no problem document and a stack trace in a page faults', () => {
  const api = { op: 'POST /v1/x', api: true, method: 'POST', url: '/v1/x', headers: {}, ip: '10.0.0.1' };
  const answer = (statusCode: number, type: string, body: string) => ({ statusCode, headers: { 'content-type': type }, body }) as unknown as LightMyRequestResponse;
  expect(faults(api, answer(500, 'application/problem+json', '{"type":"/problems/internal","title":"x","status":500}'))).toEqual(['answered 500']);
  expect(faults(api, answer(400, 'application/json', '{"message":"bad"}'))).toHaveLength(2);
  expect(faults(api, answer(400, 'application/problem+json', '{"type":"/problems/invalid_request","title":"Bad","status":400}'))).toEqual([]);
  const page = { ...api, api: false, url: '/login' };
  expect(faults(page, answer(400, 'text/html; charset=utf-8', '<p>Error</p>\n    at handler (/work/src/x.ts:1:2)'))).toEqual(['stack trace or source path in the answer']);
  expect(faults(page, answer(400, 'text/html; charset=utf-8', '<p>Check the field.</p>'))).toEqual([]);
});
