import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/database.js';
import { AppError, invalid, type FieldError } from '../platform/errors.js';
import type { RateLimiter } from '../platform/ratelimit.js';
import { renderMarkdown } from './markdown.js';
import * as q from './queries.js';
import { checkArticle, isSlug, searchTerms, type ArticleDraft } from './rules.js';

export type Votes = q.Votes;

export interface ArticleSummary {
  slug: string;
  title: string;
  summary: string;
  votes: Votes;
  updatedAt: string;
}

export interface ArticleView extends ArticleSummary {
  body: string;
  /** The body as sanitised HTML. */
  html: string;
  keywords: string[];
  related: Array<{ slug: string; title: string }>;
}

export interface HelpDeps {
  db: Db;
  clock: Clock;
  limiter: RateLimiter;
}

const FIELD_ORDER = ['slug', 'title', 'summary', 'body', 'keywords', 'related'];
/** Errors in the order of the form's fields, whichever check found them. */
function fieldOrder(path: string): number {
  return FIELD_ORDER.indexOf(path.split('/')[1] ?? '');
}

function summaryOf(row: q.ArticleSummaryRow): ArticleSummary {
  return {
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    votes: { helpful: Number(row.helpful), total: Number(row.total) },
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The help center: articles, their search, and "Was this article helpful?" votes. */
export class HelpService {
  constructor(private readonly deps: HelpDeps) {}

  /** Best match first; an empty query lists every article. */
  async search(query: string | undefined): Promise<ArticleSummary[]> {
    const terms = searchTerms(query);
    const rows = terms.length ? await q.searchArticles(this.deps.db, terms) : await q.listArticles(this.deps.db);
    return rows.map(summaryOf);
  }

  async get(slug: string): Promise<ArticleView> {
    const row = isSlug(slug) ? await q.findArticle(this.deps.db, slug) : undefined;
    if (!row) throw new AppError('not_found', { detail: 'There is no help article at this address.' });
    return {
      ...summaryOf(row),
      body: row.body,
      html: renderMarkdown(row.body),
      keywords: row.keywords,
      related: await q.titlesOf(this.deps.db, row.related),
    };
  }

  /**
   * Creates or replaces an article (admins). `mustBeNew` keeps the "new article" form from
   * overwriting an existing one by accident.
   */
  async save(
    slug: string,
    draft: ArticleDraft,
    by: { actorId: string; meta: RequestMeta; mustBeNew?: boolean },
  ): Promise<{ article: ArticleView; created: boolean }> {
    const { db, clock } = this.deps;
    const errors: FieldError[] = [];
    const input = checkArticle(slug, draft, errors);
    // Checked with the rest, so that every problem is listed at once.
    const found = await q.titlesOf(db, isSlug(slug) ? [slug, ...input.related] : input.related);
    if (by.mustBeNew && found.some((f) => f.slug === slug)) errors.push({ path: '/slug', message: 'An article already has this address; edit it instead.' });
    (draft.related ?? []).forEach((raw, i) => {
      const other = raw.trim();
      if (input.related.includes(other) && !found.some((f) => f.slug === other)) {
        errors.push({ path: `/related/${i}`, message: `There is no article "${other}".` });
      }
    });
    if (errors.length) throw invalid(errors.sort((a, b) => fieldOrder(a.path) - fieldOrder(b.path)));
    const now = clock.now();
    const created = await db.transaction().execute(async (trx) => {
      const result = await q.upsertArticle(trx, slug, input, now, by.actorId);
      await recordAudit(trx, now, {
        event: result.created ? 'help.article_created' : 'help.article_updated',
        actorId: by.actorId,
        meta: by.meta,
        details: { slug },
      });
      return result.created;
    });
    return { article: await this.get(slug), created };
  }

  /**
   * One vote per voter and article; a second vote replaces the first. A member who voted as
   * a visitor before signing in (`replaces`) still has one vote: the visitor's is withdrawn.
   * `limitKey` (the client's address) bounds how many votes one machine can cast, cookies or not.
   */
  async vote(slug: string, voter: { id: string; replaces?: string | null }, helpful: boolean, limitKey: string): Promise<Votes> {
    if (!isSlug(slug)) throw new AppError('not_found', { detail: 'There is no help article at this address.' });
    await this.deps.limiter.consume('help_vote', limitKey);
    const now = this.deps.clock.now();
    const stored = await this.deps.db.transaction().execute(async (trx) => {
      if (voter.replaces) await q.deleteVote(trx, slug, voter.replaces);
      return q.upsertVote(trx, slug, voter.id, helpful, now);
    });
    if (!stored) throw new AppError('not_found', { detail: 'There is no help article at this address.' });
    return q.countVotes(this.deps.db, slug);
  }

  /** The voter's current answer for an article, if any. */
  async voteOf(slug: string, voter: string | null): Promise<boolean | null> {
    return voter ? q.voteOf(this.deps.db, slug, voter) : null;
  }
}
