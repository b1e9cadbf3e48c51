import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noMeta } from '../../src/platform/audit.js';
import { AppError } from '../../src/platform/errors.js';
import { LookupUnavailableError, type LineTypeLookup, type LookupResult } from '../../src/phone/lookup.js';
import { PhoneService } from '../../src/phone/service.js';
import { createTestApp, signUp, type TestApp } from '../helpers/app.js';
import { count, phMobile } from './helpers.js';

/**
 * PHONE_LOOKUP=twilio: the carrier's line type on top of the numbering plan. The lookup is a
 * fake here (the Twilio client has its own tests); the service is the one the routes use.
 */
class FakeLookup implements LineTypeLookup {
  calls: string[] = [];
  answers = new Map<string, LookupResult | 'down'>();
  async lineType(e164: string): Promise<LookupResult> {
    this.calls.push(e164);
    const answer = this.answers.get(e164) ?? { lineType: 'mobile', carrierName: 'Globe' };
    if (answer === 'down') throw new LookupUnavailableError('lookup timed out');
    return answer;
  }
}

let t: TestApp;
let lookup: FakeLookup;
let phone: PhoneService;
const logs: Array<{ level: number; msg: string }> = [];

beforeAll(async () => {
  t = await createTestApp();
  lookup = new FakeLookup();
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const v = t.app.verity;
  phone = new PhoneService({
    ...v,
    log: pino({ level: 'info' }, sink),
    publicUrl: t.config.publicUrl,
    allowedCountries: null,
    countryDailyCaps: t.config.phoneCountryDailyCaps,
    lookup,
    openCase: (trx, input) => v.support.open(trx, input),
  });
});
afterAll(async () => {
  await t.close();
});

async function start(e164: string) {
  const member = await signUp(t);
  try {
    return { ok: await phone.start(member.id, { phone: e164 }, noMeta), error: null };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { ok: null, error };
  }
}

async function lookupMetric(result: string): Promise<number> {
  const metric = await t.app.verity.metrics.registry.getSingleMetric('verity_phone_lookup_total')?.get();
  return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('carrier line-type lookup', () => {
  it.each([['fixedVoip'], ['nonFixedVoip']])('refuses a number the carrier calls %s as phone_voip, though the plan says mobile', async (lineType) => {
    const e164 = phMobile();
    lookup.answers.set(e164, { lineType, carrierName: 'Some VoIP Inc' });
    const { error } = await start(e164);
    expect(error?.code).toBe('phone_voip');
    expect(error?.detail).toBe("We can't verify VoIP numbers; please use a different, non-VoIP number.");
  });

  it.each([
    ['tollFree', 'TOLL_FREE'],
    ['premium', 'PREMIUM_RATE'],
    ['sharedCost', 'SHARED_COST'],
    ['uan', 'UAN'],
    ['voicemail', 'VOICEMAIL'],
    ['pager', 'PAGER'],
    ['personal', 'PERSONAL_NUMBER'],
  ])('refuses a number the carrier calls %s with phone_type_unsupported (%s)', async (lineType, expected) => {
    const e164 = phMobile();
    lookup.answers.set(e164, { lineType, carrierName: null });
    const { error } = await start(e164);
    expect(error?.code).toBe('phone_type_unsupported');
    expect(error?.extra.lineType).toBe(expected);
  });

  it('calls a number the carrier reports as a landline instead of texting it', async () => {
    const e164 = '+12015550199'; // FIXED_LINE_OR_MOBILE in the plan
    lookup.answers.set(e164, { lineType: 'landline', carrierName: 'Verizon' });
    const { ok } = await start(e164);
    expect(ok?.channel).toBe('voice');
    expect(ok?.notice).toMatch(/landline/);
  });

  it('keeps the plan verdict when the carrier has no answer', async () => {
    const e164 = phMobile();
    lookup.answers.set(e164, { lineType: null, carrierName: null });
    expect((await start(e164)).ok?.channel).toBe('sms');
    const other = phMobile();
    lookup.answers.set(other, { lineType: 'unknown', carrierName: null });
    expect((await start(other)).ok?.channel).toBe('sms');
  });

  it('does not ask the carrier about numbers the plan already refuses', async () => {
    const calls = lookup.calls.length;
    expect((await start('+18005550199')).error?.code).toBe('phone_type_unsupported');
    expect(lookup.calls.length).toBe(calls);
  });

  it('caches each answer for 30 days in the database', async () => {
    const e164 = phMobile();
    lookup.answers.set(e164, { lineType: 'nonFixedVoip', carrierName: 'X' });
    await start(e164);
    await start(e164);
    expect(lookup.calls.filter((n) => n === e164)).toHaveLength(1);
    const row = await t.db.selectFrom('phone_lookups').selectAll().where('e164', '=', e164).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ line_type: 'nonFixedVoip', carrier_name: 'X' });
    t.clock.advanceSeconds(30 * 24 * 3600 + 1);
    lookup.answers.set(e164, { lineType: 'mobile', carrierName: 'X' });
    expect((await start(e164)).ok?.channel).toBe('sms');
    expect(lookup.calls.filter((n) => n === e164)).toHaveLength(2);
  });

  it('fails open when the lookup is down: the plan decides, nothing is cached, the outage is logged and counted', async () => {
    const e164 = phMobile();
    lookup.answers.set(e164, 'down');
    const unavailableBefore = await lookupMetric('unavailable');
    const cachedRows = await count(t, 'phone_lookups');
    const { ok } = await start(e164);
    expect(ok?.channel).toBe('sms');
    expect(await count(t, 'phone_lookups')).toBe(cachedRows);
    expect(await lookupMetric('unavailable')).toBe(unavailableBefore + 1);
    expect(logs.some((l) => l.level === 40 && /lookup unavailable/.test(l.msg))).toBe(true);
    // The numbering plan still refuses what it knows, lookup or not.
    lookup.answers.set('+18005550123', 'down');
    expect((await start('+18005550123')).error?.code).toBe('phone_type_unsupported');
    // Once it is back, the next start asks again (the failure was not cached).
    lookup.answers.set(e164, { lineType: 'nonFixedVoip', carrierName: null });
    t.clock.advanceSeconds(31);
    expect((await start(e164)).error?.code).toBe('phone_voip');
  });
});
