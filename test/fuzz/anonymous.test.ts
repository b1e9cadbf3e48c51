import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { runFuzz, runsPerFile, SEED, startFuzz, type Fuzz } from './harness.js';

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
