import type { Kysely } from 'kysely';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { findAccountById, isUuid } from '../../accounts/queries.js';
import type { RequestMeta } from '../../platform/audit.js';
import { isUniqueViolation } from '../../platform/db/database.js';
import type { DB } from '../../platform/db/schema.js';
import { AppError } from '../../platform/errors.js';
import { applyChange, type ChangeDeps } from '../changes.js';
import { addMethod, removeMethod } from '../queries.js';
import { claimedChallenge, consumeCeremony, PROMPT_TIMEOUT_MS, relyingParty, storeCeremony, type RelyingParty } from './webauthn.js';

/** More than anyone carries; bounds what one account can store. */
export const MAX_PASSKEYS = 20;

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Passkeys and security keys (WebAuthn): register several, name, list, remove, and sign in with any. */
export class PasskeysMethod {
  readonly rp: RelyingParty;

  constructor(private readonly deps: ChangeDeps) {
    this.rp = relyingParty(deps.publicUrl);
  }

  /** Creation options for the browser; `setupId` names the ceremony when the answer comes back. */
  async registrationOptions(accountId: string): Promise<{ setupId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
    const { db, clock, random } = this.deps;
    const account = await findAccountById(db, accountId);
    if (!account) throw new AppError('not_found');
    const existing = await credentialsOf(db, accountId);
    const options = await generateRegistrationOptions({
      rpName: this.rp.name,
      rpID: this.rp.id,
      userName: account.username,
      // The account id as the user handle: stable, and it says nothing about the member.
      userID: new Uint8Array(Buffer.from(account.id.replace(/-/g, ''), 'hex')),
      challenge: new Uint8Array(random.bytes(32)),
      timeout: PROMPT_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    const setupId = await storeCeremony(db, { accountId, kind: 'registration', context: null, challenge: options.challenge, now: clock.now() });
    return { setupId, options };
  }

  /** Checks the authenticator's attestation and keeps its public key under `name`. */
  async register(accountId: string, input: { setupId: string; name: string; response: unknown }, meta: RequestMeta): Promise<PasskeyView> {
    const { db, clock } = this.deps;
    const name = input.name.trim();
    if (!name) throw new AppError('invalid_request', { detail: 'Give the passkey a name.', extra: { errors: [{ path: '/name', message: 'must not be blank' }] } });
    const challenge = isUuid(input.setupId) ? await consumeCeremony(db, { accountId, kind: 'registration', id: input.setupId, now: clock.now() }) : null;
    if (!challenge) throw passkeyInvalid('This passkey setup has expired or was used. Start adding the passkey again.');
    const verified = await verifyRegistrationResponse({
      response: input.response as RegistrationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: this.rp.origin,
      expectedRPID: this.rp.id,
      requireUserVerification: false,
    }).catch(() => null);
    if (!verified?.verified) throw passkeyInvalid();
    const credential = verified.registrationInfo.credential;

    try {
      return await applyChange(this.deps, accountId, meta, async (trx, now) => {
        const count = await trx.selectFrom('passkeys').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
        if (Number(count.n) >= MAX_PASSKEYS) throw passkeyInvalid(`You have ${MAX_PASSKEYS} passkeys, the most an account can hold. Remove one first.`);
        const row = await trx
          .insertInto('passkeys')
          .values({
            account_id: accountId,
            credential_id: credential.id,
            public_key: Buffer.from(credential.publicKey).toString('base64url'),
            counter: credential.counter,
            transports: (credential.transports ?? []).slice(0, 8),
            name,
            created_at: now,
            last_used_at: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        const first = await addMethod(trx, accountId, 'passkey', now);
        return {
          result: toView(row),
          change: { event: 'two_step.passkey_added', type: 'passkey', summary: `A passkey named “${name}” was added to your account.`, details: { passkeyId: row.id, name, first } },
        };
      });
    } catch (error) {
      if (isUniqueViolation(error, 'passkeys_credential_key')) throw passkeyInvalid('This passkey is already registered.');
      throw error;
    }
  }

  async list(accountId: string): Promise<PasskeyView[]> {
    const rows = await this.deps.db.selectFrom('passkeys').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toView);
  }

  /** Removes one passkey; the last one gone takes the passkey method with it. */
  async remove(accountId: string, passkeyId: string, meta: RequestMeta): Promise<void> {
    if (!isUuid(passkeyId)) throw new AppError('not_found');
    await applyChange(this.deps, accountId, meta, async (trx) => {
      const removed = await trx.deleteFrom('passkeys').where('id', '=', passkeyId).where('account_id', '=', accountId).returning('name').executeTakeFirst();
      if (!removed) throw new AppError('not_found', { detail: 'There is no such passkey on your account.' });
      const left = await trx.selectFrom('passkeys').select('id').where('account_id', '=', accountId).executeTakeFirst();
      if (!left) await removeMethod(trx, accountId, 'passkey');
      return {
        result: undefined,
        change: { event: 'two_step.passkey_removed', type: 'passkey', summary: `The passkey named “${removed.name}” was removed from your account.`, details: { passkeyId } },
      };
    });
  }

  /**
   * Request options for signing in with any of the account's passkeys. `context` binds the
   * ceremony to what asked (a challenge id), so an assertion made for one challenge cannot
   * pass another.
   */
  async authenticationOptions(accountId: string, context: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { db, clock, random } = this.deps;
    const existing = await credentialsOf(db, accountId);
    const options = await generateAuthenticationOptions({
      rpID: this.rp.id,
      allowCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports })),
      challenge: new Uint8Array(random.bytes(32)),
      timeout: PROMPT_TIMEOUT_MS,
      userVerification: 'preferred',
    });
    await storeCeremony(db, { accountId, kind: 'authentication', context, challenge: options.challenge, now: clock.now() });
    return options;
  }

  /**
   * Checks an assertion: it must answer a challenge we issued for this account and context
   * (used up first), be signed by one of the account's passkeys, and carry a signature
   * counter above the stored one. Returns the passkey used, or null.
   */
  async verify(accountId: string, context: string, response: unknown): Promise<{ passkeyId: string; name: string } | null> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const claimed = claimedChallenge(response);
    const credentialId = (response as { id?: unknown } | null)?.id;
    if (!claimed || typeof credentialId !== 'string' || credentialId.length > 1024) return null;
    const challenge = await consumeCeremony(db, { accountId, kind: 'authentication', challenge: claimed, context, now });
    if (!challenge) return null;
    const stored = await db.selectFrom('passkeys').selectAll().where('account_id', '=', accountId).where('credential_id', '=', credentialId).executeTakeFirst();
    if (!stored) return null;
    const result = await verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: this.rp.origin,
      expectedRPID: this.rp.id,
      credential: { id: stored.credential_id, publicKey: new Uint8Array(Buffer.from(stored.public_key, 'base64url')), counter: stored.counter, transports: stored.transports },
      requireUserVerification: false,
    }).catch(() => null);
    if (!result?.verified) return null;
    // The counter moves forward from exactly what we checked against; an authenticator that
    // reports no counter (always 0) is allowed, as WebAuthn says.
    const next = result.authenticationInfo.newCounter;
    const updated = await db
      .updateTable('passkeys')
      .set({ counter: next, last_used_at: now })
      .where('id', '=', stored.id)
      .where('counter', '=', stored.counter)
      .returning('id')
      .executeTakeFirst();
    return updated ? { passkeyId: stored.id, name: stored.name } : null;
  }

  /** The passkeys' names, for the challenge's hint. */
  static async names(db: Kysely<DB>, accountId: string): Promise<string[]> {
    const rows = await db.selectFrom('passkeys').select('name').where('account_id', '=', accountId).orderBy('created_at').execute();
    return rows.map((r) => r.name);
  }

  static async removeAll(trx: Kysely<DB>, accountId: string): Promise<void> {
    await trx.deleteFrom('passkeys').where('account_id', '=', accountId).execute();
  }
}

function credentialsOf(db: Kysely<DB>, accountId: string) {
  return db.selectFrom('passkeys').select(['credential_id', 'transports']).where('account_id', '=', accountId).execute();
}

function toView(row: { id: string; name: string; created_at: Date; last_used_at: Date | null }): PasskeyView {
  return { id: row.id, name: row.name, createdAt: row.created_at.toISOString(), lastUsedAt: row.last_used_at?.toISOString() ?? null };
}

function passkeyInvalid(detail?: string): AppError {
  return new AppError('passkey_invalid', detail ? { detail } : {});
}
