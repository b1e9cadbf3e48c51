import type { Kysely } from 'kysely';
import { addSeconds } from './clock.js';
import { hmac, randomToken, type Random } from './crypto.js';
import type { DB } from './db/schema.js';

/**
 * One recipe for every one-time link token: 256 random bits, only an HMAC at rest,
 * used up by a conditional update so a token works once even under a race.
 * Lifetimes live here, in one table.
 */
export const tokenLifetimes = {
  email_verification: 24 * 3600,
  password_reset: 3600,
  security_answer_reset: 3600,
  not_me: 7 * 24 * 3600,
  email_change: 24 * 3600,
} as const;

export type TokenPurpose = keyof typeof tokenLifetimes;

export function tokenHash(key: Buffer, purpose: TokenPurpose, token: string): string {
  return hmac(key, purpose, token).toString('hex');
}

export async function issueToken(
  trx: Kysely<DB>,
  input: { key: Buffer; random: Random; now: Date; accountId: string; purpose: TokenPurpose },
): Promise<string> {
  const token = randomToken(input.random);
  await trx
    .insertInto('one_time_tokens')
    .values({
      account_id: input.accountId,
      purpose: input.purpose,
      token_hash: tokenHash(input.key, input.purpose, token),
      created_at: input.now,
      expires_at: addSeconds(input.now, tokenLifetimes[input.purpose]),
    })
    .execute();
  return token;
}

/** Uses a token up; returns its account id, or null when unknown, used or expired (alike). */
export async function consumeToken(
  trx: Kysely<DB>,
  input: { key: Buffer; now: Date; purpose: TokenPurpose; token: string },
): Promise<string | null> {
  if (input.token.length > 200) return null;
  const row = await trx
    .updateTable('one_time_tokens')
    .set({ used_at: input.now })
    .where('token_hash', '=', tokenHash(input.key, input.purpose, input.token))
    .where('purpose', '=', input.purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', input.now)
    .returning('account_id')
    .executeTakeFirst();
  return row?.account_id ?? null;
}

/** Looks a token up without using it (to show a form before the final step). */
export async function peekToken(
  db: Kysely<DB>,
  input: { key: Buffer; now: Date; purpose: TokenPurpose; token: string },
): Promise<string | null> {
  if (input.token.length > 200) return null;
  const row = await db
    .selectFrom('one_time_tokens')
    .select('account_id')
    .where('token_hash', '=', tokenHash(input.key, input.purpose, input.token))
    .where('purpose', '=', input.purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', input.now)
    .executeTakeFirst();
  return row?.account_id ?? null;
}

/** Makes every open token of a purpose unusable (a new one replaces them). */
export async function revokeTokens(trx: Kysely<DB>, accountId: string, purpose: TokenPurpose, now: Date): Promise<void> {
  await trx
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('account_id', '=', accountId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}
