import { afterAll, beforeAll, expect, it } from 'vitest';
import { runFuzz, runsPerFile, SEED, startFuzz, type Fuzz } from './harness.js';

// Hostile requests to every operation and form, as agent, admin. See harness.ts.
let fuzz: Fuzz;
beforeAll(async () => {
  fuzz = await startFuzz(['agent', 'admin']);
});
afterAll(async () => {
  await fuzz.close();
});

it('answers every hostile request below 500, with a problem document, and a refusal changes nothing', async () => {
  const started = Date.now();
  const result = await runFuzz(fuzz, runsPerFile(4));
  console.log(`fuzz staff: ${result.runs} cases over ${fuzz.ops.length} operations in ${Date.now() - started} ms (requests ${Math.round(result.timing.inject)} ms, digests ${Math.round(result.timing.digest)} ms), seed ${SEED}, statuses ${JSON.stringify(result.statuses)}`);
  expect(result.survey).toEqual([]);
}, 600_000);
