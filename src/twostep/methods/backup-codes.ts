import type { Kysely } from 'kysely';
import type { RequestMeta } from '../../platform/audit.js';
import { hmac, type Random } from '../../platform/crypto.js';
import type { DB } from '../../platform/db/schema.js';
import { applyChange, type ChangeDeps } from '../changes.js';
import { addMethod } from '../queries.js';

export const BACKUP_CODE_COUNT = 10;
/** Settings warn when this many codes or fewer are left. */
export const BACKUP_CODES_LOW = 2;
// No 0/o, 1/l/i: codes are read off paper and typed by hand. 31 characters, about 4.95 bits each.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const CODE_LENGTH = 10;

/** A fresh code, shown as "abcde-fghjk"; 10 characters from a CSPRNG (about 49 bits). */
function newCode(random: Random): string {
  let out = '';
  for (let i = 0; i < CODE_LENGTH; i++) out += ALPHABET[random.int(ALPHABET.length)];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

/** What a member typed, without spaces, dashes or case; null if it cannot be a backup code. */
export function normalizeBackupCode(input: string): string | null {
  const plain = input.replace(/[\s-]/g, '').toLowerCase();
  return plain.length === CODE_LENGTH && [...plain].every((c) => ALPHABET.includes(c)) ? plain : null;
}

function codeHash(key: Buffer, accountId: string, normalized: string): string {
  return hmac(key, 'backup-code', accountId, normalized).toString('hex');
}

/** Ten single-use codes for when no other method is at hand; only HMACs are kept. */
export class BackupCodesMethod {
  constructor(private readonly deps: ChangeDeps) {}

  /** A new set of codes, returned once; every earlier code stops working in the same transaction. */
  async generate(accountId: string, meta: RequestMeta): Promise<string[]> {
    const { random, secrets } = this.deps;
    const codes = new Set<string>();
    while (codes.size < BACKUP_CODE_COUNT) codes.add(newCode(random));
    const list = [...codes];
    return applyChange(this.deps, accountId, meta, async (trx, now) => {
      const voided = await trx.deleteFrom('backup_codes').where('account_id', '=', accountId).returning('used_at').execute();
      await trx
        .insertInto('backup_codes')
        .values(list.map((code) => ({ account_id: accountId, code_hash: codeHash(secrets.tokenKey, accountId, normalizeBackupCode(code)!), created_at: now, used_at: null })))
        .execute();
      const added = await addMethod(trx, accountId, 'backup_code', now, { replaced: true });
      const unusedBefore = voided.filter((r) => r.used_at === null).length;
      return {
        result: list,
        change: {
          event: added ? 'two_step.method_added' : 'two_step.backup_codes_regenerated',
          type: 'backup_code',
          summary: added
            ? 'Backup codes were created for your account.'
            : `New backup codes were created for your account; the ${unusedBefore} unused earlier ${unusedBefore === 1 ? 'code' : 'codes'} no longer work.`,
          details: { voided: unusedBefore },
        },
      };
    });
  }

  /**
   * Uses a code up: true once per code. The conditional update decides, so of two sign-ins
   * racing with one code exactly one gets the row.
   */
  /**
   * Uses a code up: one conditional update, so of two racing uses one wins. Pass the
   * transaction that issues what the code buys (a sign-in's session), so a crash cannot
   * leave a spent code and nothing for it.
   */
  async use(accountId: string, code: string, db: Kysely<DB> = this.deps.db): Promise<boolean> {
    const { clock, secrets } = this.deps;
    const normalized = normalizeBackupCode(code);
    if (!normalized) return false;
    const row = await db
      .updateTable('backup_codes')
      .set({ used_at: clock.now() })
      .where('account_id', '=', accountId)
      .where('code_hash', '=', codeHash(secrets.tokenKey, accountId, normalized))
      .where('used_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Whether a code is one of the account's unused ones (compared by its HMAC); `use` decides. */
  async isUnused(accountId: string, code: string): Promise<boolean> {
    const { db, secrets } = this.deps;
    const normalized = normalizeBackupCode(code);
    if (!normalized) return false;
    const row = await db
      .selectFrom('backup_codes')
      .select('id')
      .where('account_id', '=', accountId)
      .where('code_hash', '=', codeHash(secrets.tokenKey, accountId, normalized))
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  static async remaining(db: Kysely<DB>, accountId: string): Promise<number> {
    const row = await db
      .selectFrom('backup_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', accountId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  static async remove(trx: Kysely<DB>, accountId: string): Promise<void> {
    await trx.deleteFrom('backup_codes').where('account_id', '=', accountId).execute();
  }
}
