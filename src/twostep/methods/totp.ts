import type { Kysely } from 'kysely';
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';
import { findAccountById, isUuid } from '../../accounts/queries.js';
import type { RequestMeta } from '../../platform/audit.js';
import { addSeconds } from '../../platform/clock.js';
import { decrypt, encrypt } from '../../platform/crypto.js';
import type { DB } from '../../platform/db/schema.js';
import { AppError } from '../../platform/errors.js';
import { applyChange, type ChangeDeps } from '../changes.js';
import { addMethod } from '../queries.js';

/** RFC 6238 as every authenticator app does it: SHA-1, 6 digits, 30-second steps. */
export const TOTP = { algorithm: 'SHA1', digits: 6, period: 30, secretBytes: 20, issuer: 'Verity' } as const;
/** A code from the step before or after now is accepted (clock drift, a code typed late). */
export const TOTP_WINDOW = 1;
/** How long a setup (secret shown, no code typed yet) can still be confirmed. */
export const SETUP_TTL_SECONDS = 15 * 60;

export interface TotpSetup {
  setupId: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

/** The authenticator-app method: set up (secret, URI, QR), confirm, and verify codes. */
export class TotpMethod {
  constructor(private readonly deps: ChangeDeps) {}

  /** A new secret, shown once; it counts only after `confirm`. Earlier unconfirmed setups end. */
  async begin(accountId: string): Promise<TotpSetup> {
    const { db, clock, random, secrets } = this.deps;
    const account = await findAccountById(db, accountId);
    if (!account) throw new AppError('not_found');
    const secret = new OTPAuth.Secret({ buffer: toArrayBuffer(random.bytes(TOTP.secretBytes)) });
    const now = clock.now();
    const row = await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('totp_credentials').where('account_id', '=', accountId).where('confirmed_at', 'is', null).execute();
      return trx
        .insertInto('totp_credentials')
        .values({
          account_id: accountId,
          secret_sealed: encrypt(secrets.encryptionKey, secret.base32),
          created_at: now,
          setup_expires_at: addSeconds(now, SETUP_TTL_SECONDS),
          confirmed_at: null,
          last_used_step: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    });
    return present(row.id, secret.base32, account.username);
  }

  /** The same setup again (a page shown anew after a wrong code), while it can still be confirmed. */
  async resume(accountId: string, setupId: string): Promise<TotpSetup | null> {
    const { db, clock, secrets } = this.deps;
    const account = await findAccountById(db, accountId);
    const setup = account ? await pendingSetup(db, accountId, setupId, clock.now()) : undefined;
    return account && setup ? present(setup.id, decrypt(secrets.encryptionKey, setup.secret_sealed), account.username) : null;
  }

  /**
   * The first code from the app turns the setup into the account's authenticator (replacing
   * an earlier one). The confirming step counts as used, so the same code cannot sign in.
   */
  async confirm(accountId: string, input: { setupId: string; code: string }, meta: RequestMeta): Promise<void> {
    const { db, clock, secrets } = this.deps;
    const setup = await pendingSetup(db, accountId, input.setupId, clock.now());
    if (!setup) throw new AppError('not_found', { detail: 'This setup has expired or is unknown. Start setting up the authenticator app again.' });
    const step = matchingStep(decrypt(secrets.encryptionKey, setup.secret_sealed), input.code, clock.now());
    if (step === null) throw new AppError('code_invalid', { detail: 'That code is not right. Enter the 6-digit code your authenticator app shows now.' });

    await applyChange(this.deps, accountId, meta, async (trx, now) => {
      const replaced = await trx.deleteFrom('totp_credentials').where('account_id', '=', accountId).where('confirmed_at', 'is not', null).returning('id').execute();
      const confirmed = await trx
        .updateTable('totp_credentials')
        .set({ confirmed_at: now, last_used_step: step })
        .where('id', '=', setup.id)
        .where('confirmed_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!confirmed) throw new AppError('not_found', { detail: 'This setup was already used. Start setting up the authenticator app again.' });
      await addMethod(trx, accountId, 'totp', now, { replaced: true });
      return {
        result: undefined,
        change: {
          event: replaced.length ? 'two_step.method_changed' : 'two_step.method_added',
          type: 'totp',
          summary: replaced.length ? 'Your authenticator app was replaced by a new one.' : 'An authenticator app was added to your account.',
        },
      };
    });
  }

  /**
   * True when `code` is the account's current code (±1 step) and that step has not been used
   * before. The step is claimed by a conditional update, so a code works once even when two
   * requests race with it, and no step older than the last used one is taken.
   */
  async verify(accountId: string, code: string): Promise<boolean> {
    const { db, clock, secrets } = this.deps;
    const now = clock.now();
    const row = await confirmedCredential(db, accountId);
    if (!row) return false;
    const step = matchingStep(decrypt(secrets.encryptionKey, row.secret_sealed), code, now);
    if (step === null) return false;
    const claimed = await db
      .updateTable('totp_credentials')
      .set({ last_used_step: step })
      .where('id', '=', row.id)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .returning('id')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  /** Removes the authenticator (inside a change the service opens). */
  static async remove(trx: Kysely<DB>, accountId: string): Promise<void> {
    await trx.deleteFrom('totp_credentials').where('account_id', '=', accountId).execute();
  }
}

async function pendingSetup(db: Kysely<DB>, accountId: string, setupId: string, now: Date) {
  if (!isUuid(setupId)) return undefined;
  return db
    .selectFrom('totp_credentials')
    .selectAll()
    .where('id', '=', setupId)
    .where('account_id', '=', accountId)
    .where('confirmed_at', 'is', null)
    .where('setup_expires_at', '>', now)
    .executeTakeFirst();
}

async function present(setupId: string, base32: string, username: string): Promise<TotpSetup> {
  const otpauthUri = totpFor(base32, username).toString();
  const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { setupId, secret: base32, otpauthUri, qrSvg };
}

function confirmedCredential(db: Kysely<DB>, accountId: string) {
  return db.selectFrom('totp_credentials').select(['id', 'secret_sealed']).where('account_id', '=', accountId).where('confirmed_at', 'is not', null).executeTakeFirst();
}

function totpFor(base32: string, username: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: TOTP.issuer,
    label: username,
    algorithm: TOTP.algorithm,
    digits: TOTP.digits,
    period: TOTP.period,
    secret: OTPAuth.Secret.fromBase32(base32),
  });
}

/** The absolute time step `code` belongs to (within the window around `now`), or null. */
export function matchingStep(base32: string, code: string, now: Date): number | null {
  const typed = code.replace(/[\s-]/g, '');
  if (!/^\d{6}$/.test(typed)) return null;
  const timestamp = now.getTime();
  // otpauth answers the offset from now's step, and 0 is a match: compare with null.
  const delta = totpFor(base32, '-').validate({ token: typed, timestamp, window: TOTP_WINDOW });
  if (delta === null) return null;
  return OTPAuth.TOTP.counter({ period: TOTP.period, timestamp }) + delta;
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
