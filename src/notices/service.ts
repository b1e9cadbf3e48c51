import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/database.js';
import { AppError, invalid } from '../platform/errors.js';
import { NOTICE_KEY, type Notice, type NoticeViewer } from '../platform/web/notices.js';
import { activeNotices, feedKeys } from './active.js';
import { dismissedKeys, recordDismissal } from './dismissals.js';
import { EMPTY_FEED, validateFeed, type Feed } from './feed.js';

/**
 * How long a process may show a feed it read before reading it again. Several processes share
 * one database; an edit made on one shows on all of them within this time (the promise is 5 s).
 */
export const FEED_CACHE_MS = 2_000;

interface Cached {
  feed: Feed;
  /** The JSON exactly as stored. */
  text: string;
  readAt: number;
}

export interface NoticeDeps {
  db: Db;
  clock: Clock;
}

/** The notice feed: stored as given, validated in full on the way in, cached briefly on the way out. */
export class NoticeService {
  private cached: Cached | null = null;
  private loading: Promise<Cached> | null = null;
  /** Bumped by every write, so a read that started before it cannot put the old feed back. */
  private generation = 0;

  constructor(private readonly deps: NoticeDeps) {}

  private async current(): Promise<Cached> {
    const now = this.deps.clock.now().getTime();
    const cached = this.cached;
    // A clock that moved backwards (tests set it) also means "read again".
    if (cached && now >= cached.readAt && now - cached.readAt < FEED_CACHE_MS) return cached;
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<Cached> {
    const generation = this.generation;
    const row = await this.deps.db.selectFrom('notice_feed').select('feed').where('id', '=', 1).executeTakeFirst();
    const text = row?.feed ?? JSON.stringify(EMPTY_FEED);
    const loaded = { feed: JSON.parse(text) as Feed, text, readAt: this.deps.clock.now().getTime() };
    if (generation === this.generation) this.cached = loaded;
    return loaded;
  }

  /** The stored feed, as the JSON text it was given. */
  async feedText(): Promise<string> {
    return (await this.current()).text;
  }

  /**
   * Replaces the feed. Every problem is reported at once (422 invalid_feed with `errors`),
   * and a refused feed leaves the stored one in place.
   */
  async replace(proposed: unknown, by: { actorId: string; meta: RequestMeta }): Promise<string> {
    const errors = validateFeed(proposed);
    if (errors.length) {
      const detail = `The notice feed has ${errors.length === 1 ? 'an error' : `${errors.length} errors`}; the previous feed is still in place.`;
      throw new AppError('invalid_feed', { detail, extra: { errors } });
    }
    const text = JSON.stringify(proposed);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('notice_feed')
        .values({ id: 1, feed: text, updated_at: now, updated_by: by.actorId })
        .onConflict((oc) => oc.column('id').doUpdateSet({ feed: text, updated_at: now, updated_by: by.actorId }))
        .execute();
      await recordAudit(trx, now, { event: 'notices.feed_updated', actorId: by.actorId, meta: by.meta, details: { responsive: (proposed as Feed).responsive.length } });
    });
    this.generation += 1;
    this.cached = { feed: JSON.parse(text) as Feed, text, readAt: now.getTime() };
    return text;
  }

  /** What a page shows the viewer now: the active notices, less those the viewer dismissed. */
  async forViewer(viewer: NoticeViewer): Promise<Notice[]> {
    const { feed } = await this.current();
    const active = activeNotices(feed, viewer, this.deps.clock.now());
    if (!active.length) return active;
    const dismissed = viewer.accountId
      ? await dismissedKeys(this.deps.db, viewer.accountId, active.map((n) => n.key))
      : new Set(viewer.dismissed ?? []);
    return active.filter((n) => !dismissed.has(n.key));
  }

  /**
   * The feed's keys, after checking that `key` is one. A key of a notice that has since
   * changed or left the feed is not an error (the page was older than the feed): null.
   */
  private async keysHolding(key: string): Promise<string[] | null> {
    if (!NOTICE_KEY.test(key)) throw invalid([{ path: '/key', message: 'This is not a notice key.' }]);
    const keys = feedKeys((await this.current()).feed);
    return keys.has(key) ? [...keys] : null;
  }

  /** Puts a notice away for a member, on every device, until its content changes. */
  async dismissForAccount(accountId: string, key: string): Promise<void> {
    const inFeed = await this.keysHolding(key);
    if (inFeed) await recordDismissal(this.deps.db, accountId, key, inFeed, this.deps.clock.now());
  }

  /** The keys a visitor's cookie should list once this notice is put away (notices gone from the feed drop out). */
  async dismissForVisitor(previous: readonly string[], key: string): Promise<string[]> {
    const inFeed = await this.keysHolding(key);
    const kept = previous.filter((k) => k !== key && (!inFeed || inFeed.includes(k)));
    return inFeed ? [...kept, key] : kept;
  }
}
