import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findAccountById, findLiveAccountByLogin, isUuid, staffRolesOf } from '../accounts/queries.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import { constantTimeEqual, hmac, randomToken, sha256, sha256Hex, type Random } from '../platform/crypto.js';
import type { Db } from '../platform/db/database.js';
import type { StaffRole } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import { SERVICE_KEYS_BUCKET, type MemberCache } from '../platform/member-cache.js';
import { removeStaffRole } from './queries.js';

export const SETUP_TOKEN_FILE = 'admin-setup-token';

/** A setup token works for a day; the next start after that writes a new one. */
export const SETUP_TOKEN_LIFETIME_SECONDS = 24 * 3600;

function setupTokenLive(createdAt: Date, now: Date): boolean {
  return now.getTime() - new Date(createdAt).getTime() < SETUP_TOKEN_LIFETIME_SECONDS * 1000;
}
/** The setup token a nonce stands for under this SECRET_KEY (so every process can write it). */
function setupTokenFrom(tokenKey: Buffer, nonce: string): string {
  return hmac(tokenKey, 'admin-setup-token', nonce).toString('base64url');
}

/** Where the first admin's one-time token is written: the start log and /admin name this path. */
export const setupTokenPath = (dataDir: string) => join(dataDir, SETUP_TOKEN_FILE);

export interface ServiceKeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Staff roles, the first admin's setup token, and the keys other services use on the gate. */
export class AdminService {
  /** Where prepareSetupToken wrote the token, so a successful setup can remove the dead secret. */
  private setupTokenFile: string | undefined;

  constructor(private readonly deps: { db: Db; clock: Clock; random: Random; limiter: RateLimiter; tokenKey: Buffer; cache: MemberCache }) {}

  /** Checked on every staff request, so kept in the member cache (a role change empties it). */
  async staffRoles(accountId: string): Promise<string[]> {
    return this.deps.cache.remember(accountId, 'staff_roles', () => staffRolesOf(this.deps.db, accountId));
  }

  async adminExists(): Promise<boolean> {
    const row = await this.deps.db.selectFrom('staff_roles').select('account_id').where('role', '=', 'admin').limit(1).executeTakeFirst();
    return !!row;
  }

  /**
   * While no admin exists, makes sure a live one-time setup token is in DATA_DIR and returns
   * it (the server logs only the file's path: logs travel further than the data folder).
   *
   * Several processes share one database but each has its own DATA_DIR, so the token is not
   * a random value one process alone knows: it is derived from SECRET_KEY and a random nonce
   * kept in the database, and every process writes the same live token into its folder. Only
   * its hash is kept in the database. The first start to find no live token makes one (an
   * atomic upsert, so processes starting together agree); a live one is kept across restarts
   * (a deleted file is written again); an expired one, or one made under another SECRET_KEY,
   * is replaced.
   */
  async prepareSetupToken(dataDir: string): Promise<string | null> {
    const file = setupTokenPath(dataDir);
    this.setupTokenFile = file;
    if (await this.adminExists()) {
      rmSync(file, { force: true });
      return null;
    }
    const { db, clock, random, tokenKey } = this.deps;
    const now = clock.now();
    const current = await db.selectFrom('admin_setup_tokens').select(['token_hash', 'nonce', 'created_at']).where('id', '=', 1).executeTakeFirst();
    let token = current ? this.usableToken(current, now) : null;
    if (!token) {
      const nonce = randomToken(random);
      const fresh = setupTokenFrom(tokenKey, nonce);
      // Insert, or replace the row read above, and only that one: a process that made or
      // replaced it meanwhile wins, and its token is the one to use.
      await db
        .insertInto('admin_setup_tokens')
        .values({ id: 1, token_hash: sha256Hex(fresh), nonce, created_at: now })
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet({ token_hash: sha256Hex(fresh), nonce, created_at: now })
            .where('admin_setup_tokens.token_hash', '=', current?.token_hash ?? ''),
        )
        .execute();
      const settled = await db.selectFrom('admin_setup_tokens').select(['token_hash', 'nonce', 'created_at']).where('id', '=', 1).executeTakeFirst();
      token = settled ? this.usableToken(settled, now) : null;
    }
    if (!token) {
      // Another process keeps replacing it under another SECRET_KEY: nothing here would work.
      rmSync(file, { force: true });
      return null;
    }
    const onDisk = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    if (onDisk !== token) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, token + '\n', { mode: 0o600 });
    }
    return token;
  }

  /** The token a stored row stands for, when it is live and this process's SECRET_KEY made it. */
  private usableToken(row: { token_hash: string; nonce: string | null; created_at: Date }, now: Date): string | null {
    if (!row.nonce || !setupTokenLive(row.created_at, now)) return null;
    const token = setupTokenFrom(this.deps.tokenKey, row.nonce);
    return constantTimeEqual(Buffer.from(row.token_hash, 'hex'), sha256(token)) ? token : null;
  }

  /** Makes the caller the first admin. The token dies with its first use or once any admin exists. */
  async setup(accountId: string, token: string, meta: RequestMeta): Promise<void> {
    if (meta.ip) await this.deps.limiter.consume('admin_setup_ip', meta.ip);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      // Lock the token row so two concurrent setups cannot both succeed.
      const row = await trx.selectFrom('admin_setup_tokens').selectAll().where('id', '=', 1).forUpdate().executeTakeFirst();
      const admin = await trx.selectFrom('staff_roles').select('account_id').where('role', '=', 'admin').limit(1).executeTakeFirst();
      // Spaces around a token pasted from the file are no part of it (the file ends in a newline).
      if (!row || admin || !setupTokenLive(row.created_at, now) || !constantTimeEqual(Buffer.from(row.token_hash, 'hex'), sha256(token.trim()))) {
        throw new AppError('token_invalid', { detail: 'This setup token is invalid, or an administrator already exists.' });
      }
      await trx.deleteFrom('admin_setup_tokens').where('id', '=', 1).execute();
      await trx.insertInto('staff_roles').values({ account_id: accountId, role: 'admin', granted_by: null, granted_at: now }).execute();
      await recordAudit(trx, now, { event: 'staff.setup', accountId, meta, details: { role: 'admin' } });
    });
    if (this.setupTokenFile) rmSync(this.setupTokenFile, { force: true });
  }

  async grant(actorId: string, login: string, role: StaffRole, meta: RequestMeta): Promise<{ accountId: string; role: StaffRole }> {
    const account = await findLiveAccountByLogin(this.deps.db, login);
    if (!account) throw new AppError('not_found', { detail: 'No account has this username or e-mail.' });
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('staff_roles')
        .values({ account_id: account.id, role, granted_by: actorId, granted_at: now })
        .onConflict((oc) => oc.columns(['account_id', 'role']).doNothing())
        .execute();
      await recordAudit(trx, now, { event: 'staff.granted', accountId: account.id, actorId, meta, details: { role } });
    });
    return { accountId: account.id, role };
  }

  async revoke(actorId: string, accountId: string, role: string, meta: RequestMeta): Promise<void> {
    if (!isUuid(accountId) || (role !== 'agent' && role !== 'admin')) throw new AppError('not_found');
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      // Decided by the DELETE itself, so two admins removing each other cannot both win.
      const outcome = await removeStaffRole(trx, accountId, role);
      if (outcome === 'last_admin') throw new AppError('last_admin', { detail: 'The last administrator cannot be removed. Make another account an administrator first.' });
      if (outcome === 'absent') throw new AppError('not_found', { detail: 'This account does not hold that role.' });
      await recordAudit(trx, now, { event: 'staff.revoked', accountId, actorId, meta, details: { role } });
    });
  }

  async listStaff(): Promise<Array<{ accountId: string; username: string; email: string; role: string; grantedAt: string }>> {
    const rows = await this.deps.db
      .selectFrom('staff_roles')
      .innerJoin('accounts', 'accounts.id', 'staff_roles.account_id')
      .select(['staff_roles.account_id', 'accounts.username', 'accounts.email', 'staff_roles.role', 'staff_roles.granted_at'])
      .orderBy('accounts.username')
      .execute();
    return rows.map((r) => ({ accountId: r.account_id, username: r.username, email: r.email, role: r.role, grantedAt: r.granted_at.toISOString() }));
  }

  /** Creates a service key; the key itself is returned once and only its hash is stored. */
  async createServiceKey(actorId: string, name: string, meta: RequestMeta): Promise<{ id: string; name: string; key: string }> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 100) {
      throw new AppError('invalid_request', { extra: { errors: [{ path: '/name', message: 'Give the key a name of 1 to 100 characters.' }] } });
    }
    const key = `vk_${randomToken(this.deps.random)}`;
    const now = this.deps.clock.now();
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('service_keys')
        .values({ name: trimmed, key_hash: sha256Hex(key), created_by: actorId, created_at: now })
        .returning(['id', 'name'])
        .executeTakeFirstOrThrow();
      await recordAudit(trx, now, { event: 'service_key.created', actorId, meta, details: { keyId: inserted.id, name: trimmed } });
      return inserted;
    });
    return { id: row.id, name: row.name, key };
  }

  async revokeServiceKey(actorId: string, id: string, meta: RequestMeta): Promise<void> {
    if (!isUuid(id)) throw new AppError('not_found');
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('service_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new AppError('not_found');
      await recordAudit(trx, now, { event: 'service_key.revoked', actorId, meta, details: { keyId: id } });
    });
  }

  async listServiceKeys(): Promise<ServiceKeyView[]> {
    const rows = await this.deps.db.selectFrom('service_keys').selectAll().where('revoked_at', 'is', null).orderBy('created_at').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at.toISOString(), lastUsedAt: r.last_used_at?.toISOString() ?? null }));
  }

  async authenticateServiceKey(key: string): Promise<{ id: string; name: string } | null> {
    if (!key.startsWith('vk_') || key.length > 100) return null;
    const { db, cache } = this.deps;
    const keyHash = sha256Hex(key);
    // Every gate check comes with a key: memory holds the live ones (a revocation empties it).
    // Keys are namespaced: a service key presented as a session token must not find this entry.
    const slot = `service_key:${keyHash}`;
    const row = await cache.rememberByKey(slot, async () => {
      const found = await db
        .selectFrom('service_keys')
        .select(['id', 'name', 'last_used_at'])
        .where('key_hash', '=', keyHash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return found ? { accountId: SERVICE_KEYS_BUCKET, value: found } : null;
    });
    if (!row) return null;
    const now = this.deps.clock.now();
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) {
      await db.updateTable('service_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
      cache.update(SERVICE_KEYS_BUCKET, slot, { ...row, last_used_at: now });
    }
    return { id: row.id, name: row.name };
  }


  async accountExists(accountId: string): Promise<boolean> {
    return !!(await findAccountById(this.deps.db, accountId));
  }
}
