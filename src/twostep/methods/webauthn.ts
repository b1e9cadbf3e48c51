import type { Kysely } from 'kysely';
import { addSeconds } from '../../platform/clock.js';
import type { DB } from '../../platform/db/schema.js';

/** How long a ceremony's challenge can be answered (the browser's own timeout is shorter). */
export const CEREMONY_TTL_SECONDS = 5 * 60;
/** The browser's prompt timeout we ask for, in milliseconds. */
export const PROMPT_TIMEOUT_MS = 2 * 60 * 1000;

/** Relying party: the site's host is the RP id, and the site's origin is the only origin accepted. */
export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

export function relyingParty(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name: 'Verity', origin: url.origin };
}

/** Remembers the challenge we sent, so only an answer to it is accepted. Returns its id. */
export async function storeCeremony(
  db: Kysely<DB>,
  input: { accountId: string; kind: 'registration' | 'authentication'; context: string | null; challenge: string; now: Date },
): Promise<string> {
  await db.deleteFrom('webauthn_ceremonies').where('account_id', '=', input.accountId).where('expires_at', '<=', input.now).execute();
  const row = await db
    .insertInto('webauthn_ceremonies')
    .values({
      account_id: input.accountId,
      kind: input.kind,
      context: input.context,
      challenge: input.challenge,
      created_at: input.now,
      expires_at: addSeconds(input.now, CEREMONY_TTL_SECONDS),
      used_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Uses a ceremony up before its answer is checked (a conditional update, so an answer is
 * checked once at most, even when sent twice at the same moment). Returns the challenge.
 */
export async function consumeCeremony(
  db: Kysely<DB>,
  where: { accountId: string; kind: 'registration' | 'authentication'; now: Date; id?: string; challenge?: string; context?: string | null },
): Promise<string | null> {
  let query = db
    .updateTable('webauthn_ceremonies')
    .set({ used_at: where.now })
    .where('account_id', '=', where.accountId)
    .where('kind', '=', where.kind)
    .where('used_at', 'is', null)
    .where('expires_at', '>', where.now);
  if (where.id !== undefined) query = query.where('id', '=', where.id);
  if (where.challenge !== undefined) query = query.where('challenge', '=', where.challenge);
  if (where.context !== undefined) query = where.context === null ? query.where('context', 'is', null) : query.where('context', '=', where.context);
  const row = await query.returning('challenge').executeTakeFirst();
  return row?.challenge ?? null;
}

/** The challenge a WebAuthn response claims to answer (from its clientDataJSON), or null. */
export function claimedChallenge(response: unknown): string | null {
  try {
    const data = (response as { response?: { clientDataJSON?: unknown } }).response?.clientDataJSON;
    if (typeof data !== 'string' || data.length > 4096) return null;
    const parsed = JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' && parsed.challenge.length <= 512 ? parsed.challenge : null;
  } catch {
    return null;
  }
}
