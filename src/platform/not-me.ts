import type { Kysely } from 'kysely';
import type { Random } from './crypto.js';
import type { DB } from './db/schema.js';
import { issueToken, tokenHash } from './tokens.js';

/**
 * The single-use "this wasn't me" link that every security e-mail carries. Opening it and
 * confirming locks the account (recovery/service.ts). Made here so any domain that sends a
 * security notice can include one without depending on recovery.
 */
export async function notMeLink(
  trx: Kysely<DB>,
  input: { key: Buffer; random: Random; now: Date; accountId: string; publicUrl: string },
): Promise<{ link: string; hash: string }> {
  const token = await issueToken(trx, { ...input, purpose: 'not_me' });
  return { link: `${input.publicUrl}/recover/not-me/${encodeURIComponent(token)}`, hash: tokenHash(input.key, 'not_me', token) };
}
