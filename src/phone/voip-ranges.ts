import { sql } from 'kysely';
import { isUuid } from '../accounts/queries.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import { isUniqueViolation, type Db } from '../platform/db/database.js';
import { AppError, invalid } from '../platform/errors.js';
import type { RangeKind } from './screen.js';

export interface VoipRangeView {
  id: string;
  prefix: string;
  kind: RangeKind;
  note: string | null;
  createdAt: string;
  createdBy: string | null;
}

export const NOTE_MAX = 200;

/**
 * Number ranges (E.164 prefixes) that operators know to be VoIP although the numbering plan
 * lists them as mobile or fixed: a new VoIP carrier's block, ranges seen in abuse. Ranges of
 * kind `m2m` hold machine-to-machine numbers (devices, not people; defaults such as the
 * Netherlands' +3197 come with migration 0007). A number under a listed prefix is refused
 * when a verification starts (numbers already verified stay verified).
 */
export class VoipRanges {
  constructor(private readonly deps: { db: Db; clock: Clock }) {}

  /** The kind of the listed range a number falls in (the longest prefix decides), or null. */
  async kindOf(e164: string): Promise<RangeKind | null> {
    const row = await this.deps.db
      .selectFrom('phone_voip_ranges')
      .select('kind')
      // Prefixes hold only "+" and digits (a CHECK constraint), so this is a plain prefix test.
      .where(sql<boolean>`left(${e164}, length(prefix)) = prefix`)
      .orderBy(sql`length(prefix)`, 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.kind ?? null;
  }

  async list(): Promise<VoipRangeView[]> {
    const rows = await this.deps.db.selectFrom('phone_voip_ranges').selectAll().orderBy('prefix').execute();
    return rows.map(view);
  }

  /** Adds a range; adding one that exists already returns it unchanged (`created: false`). */
  async add(actorId: string, input: { prefix: string; kind?: string | undefined; note?: string | undefined }, meta: RequestMeta): Promise<{ range: VoipRangeView; created: boolean }> {
    const prefix = normalizePrefix(input.prefix);
    const note = input.note?.trim().slice(0, NOTE_MAX) || null;
    const kind = rangeKind(input.kind);
    const { db, clock } = this.deps;
    const now = clock.now();
    try {
      const row = await db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('phone_voip_ranges')
          .values({ prefix, kind, note, created_by: actorId, created_at: now })
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, now, { event: 'phone.voip_range_added', actorId, accountId: null, meta, details: { prefix, kind, note } });
        return inserted;
      });
      return { range: view(row), created: true };
    } catch (error) {
      if (!isUniqueViolation(error, 'phone_voip_ranges_prefix_key')) throw error;
      const existing = await db.selectFrom('phone_voip_ranges').selectAll().where('prefix', '=', prefix).executeTakeFirstOrThrow();
      return { range: view(existing), created: false };
    }
  }

  async remove(actorId: string, id: string, meta: RequestMeta): Promise<void> {
    if (!isUuid(id)) throw new AppError('not_found', { detail: 'No such VoIP range.' });
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      const removed = await trx.deleteFrom('phone_voip_ranges').where('id', '=', id).returningAll().executeTakeFirst();
      if (!removed) throw new AppError('not_found', { detail: 'No such VoIP range.' });
      await recordAudit(trx, now, { event: 'phone.voip_range_removed', actorId, accountId: null, meta, details: { prefix: removed.prefix, kind: removed.kind } });
    });
  }
}

/** "+63 966-123" → "+63966123"; refuses anything but + and 2 to 15 digits. */
export function normalizePrefix(input: string): string {
  const prefix = input.replace(/[\s().-]/g, '');
  if (!/^\+[1-9]\d{1,14}$/.test(prefix)) {
    throw invalid([{ path: '/prefix', message: 'A range is + followed by the country code and the first digits of the numbers, e.g. +4478930.' }]);
  }
  return prefix;
}

/** The kind a form or request named; anything else is refused (never silently made VoIP). */
function rangeKind(input: string | undefined): RangeKind {
  if (input === undefined || input === 'voip' || input === 'm2m') return input ?? 'voip';
  throw invalid([{ path: '/kind', message: 'Choose VoIP or machine-to-machine.' }]);
}

function view(r: { id: string; prefix: string; kind: RangeKind; note: string | null; created_at: Date; created_by: string | null }): VoipRangeView {
  return { id: r.id, prefix: r.prefix, kind: r.kind, note: r.note, createdAt: r.created_at.toISOString(), createdBy: r.created_by };
}
