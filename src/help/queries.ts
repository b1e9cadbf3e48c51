import { sql, type Kysely } from 'kysely';
import type { DB } from '../platform/db/schema.js';

export interface Votes {
  helpful: number;
  total: number;
}

export interface ArticleSummaryRow {
  slug: string;
  title: string;
  summary: string;
  updated_at: Date;
  helpful: number;
  total: number;
}

export interface ArticleRow extends ArticleSummaryRow {
  body: string;
  keywords: string[];
  related: string[];
}

export interface ArticleInput {
  title: string;
  summary: string;
  body: string;
  keywords: string[];
  related: string[];
}

/** Below this trigram likeness a query that shares no word stem with an article does not find it. */
const FUZZY_MIN = 0.3;
/** How much trigram likeness with the title alone adds to the score (a tie-breaker in effect). */
const TITLE_BONUS = 0.1;
/**
 * An article that has only some of the words (or only looks like them) is left out when it
 * scores under this share of the best: words as common as "login" or "account" touch most
 * articles, and a list of all of them helps no one. One with every word always stays.
 */
const RELATIVE_MIN = 0.35;

// Votes are counted from the rows themselves, so no counter can drift under concurrent votes.
const voteCounts = sql`
  LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE v.helpful) AS helpful, count(*) AS total
    FROM help_votes v WHERE v.article_slug = a.slug
  ) c ON true`;

/** Every article, by title (the help center's index and an empty search). */
export async function listArticles(db: Kysely<DB>): Promise<ArticleSummaryRow[]> {
  const { rows } = await sql<ArticleSummaryRow>`
    SELECT a.slug, a.title, a.summary, a.updated_at, c.helpful, c.total
    FROM help_articles a ${voteCounts}
    ORDER BY a.title, a.slug`.execute(db);
  return rows;
}

/**
 * Full-text search (English stemming, every term a prefix, title over keywords over summary
 * over body) plus trigram likeness with the title and keywords, which forgives typos
 * ("verifcation"). Terms are letters and digits only, so they are safe inside to_tsquery.
 */
export async function searchArticles(db: Kysely<DB>, terms: string[]): Promise<ArticleSummaryRow[]> {
  const tsquery = terms.map((t) => `${t}:*`).join(' | ');
  const everyTerm = terms.map((t) => `${t}:*`).join(' & ');
  const text = terms.join(' ');
  const { rows } = await sql<ArticleSummaryRow>`
    WITH q AS (SELECT to_tsquery('english', ${tsquery}) AS query, to_tsquery('english', ${everyTerm}) AS every, ${text}::text AS text),
    scored AS (
      SELECT a.slug, a.title, a.summary, a.updated_at,
             a.search @@ q.query AS matched,
             a.search @@ q.every AS complete,
             -- Trigram likeness with the title counts a little extra, so that for a typo too
             -- the title outranks the keywords.
             ts_rank(a.search, q.query) + word_similarity(q.text, a.search_text)
               + ${sql.lit(TITLE_BONUS)} * word_similarity(q.text, help_fold(a.title)) AS score,
             word_similarity(q.text, a.search_text) AS fuzzy
      FROM help_articles a, q
    ),
    found AS (SELECT * FROM scored WHERE matched OR fuzzy >= ${sql.lit(FUZZY_MIN)})
    SELECT a.slug, a.title, a.summary, a.updated_at, c.helpful, c.total
    FROM found a ${voteCounts}
    WHERE a.complete OR a.score >= ${sql.lit(RELATIVE_MIN)} * (SELECT max(score) FROM found)
    ORDER BY a.score DESC, a.title, a.slug`.execute(db);
  return rows;
}

export async function findArticle(db: Kysely<DB>, slug: string): Promise<ArticleRow | undefined> {
  const { rows } = await sql<ArticleRow>`
    SELECT a.slug, a.title, a.summary, a.body, a.keywords, a.related, a.updated_at, c.helpful, c.total
    FROM help_articles a ${voteCounts}
    WHERE a.slug = ${slug}`.execute(db);
  return rows[0];
}

/** Titles of the given articles that exist, in the order asked for. */
export async function titlesOf(db: Kysely<DB>, slugs: string[]): Promise<Array<{ slug: string; title: string }>> {
  if (slugs.length === 0) return [];
  const rows = await db.selectFrom('help_articles').select(['slug', 'title']).where('slug', 'in', slugs).execute();
  const bySlug = new Map(rows.map((r) => [r.slug, r]));
  return slugs.flatMap((s) => bySlug.get(s) ?? []);
}

/** Creates or replaces an article; tells which it did. */
export async function upsertArticle(db: Kysely<DB>, slug: string, input: ArticleInput, now: Date, actorId: string | null): Promise<{ created: boolean }> {
  const row = await db
    .insertInto('help_articles')
    .values({ slug, ...input, created_at: now, updated_at: now, updated_by: actorId })
    .onConflict((oc) =>
      oc.column('slug').doUpdateSet((eb) => ({
        title: eb.ref('excluded.title'),
        summary: eb.ref('excluded.summary'),
        body: eb.ref('excluded.body'),
        keywords: eb.ref('excluded.keywords'),
        related: eb.ref('excluded.related'),
        updated_at: eb.ref('excluded.updated_at'),
        updated_by: eb.ref('excluded.updated_by'),
      })),
    )
    // xmax is 0 only for a freshly inserted row: the standard way to tell insert from update.
    .returning(sql<boolean>`(xmax = 0)`.as('created'))
    .executeTakeFirstOrThrow();
  return { created: row.created };
}

/**
 * Records a visitor's vote in one statement: inserted, or replacing their earlier vote (the
 * primary key is article + voter). Returns false when the article does not exist.
 */
export async function upsertVote(db: Kysely<DB>, slug: string, voter: string, helpful: boolean, now: Date): Promise<boolean> {
  const { rows } = await sql<{ voter: string }>`
    INSERT INTO help_votes (article_slug, voter, helpful, created_at, updated_at)
    SELECT a.slug, ${voter}::text, ${helpful}::boolean, ${now}::timestamptz, ${now}::timestamptz FROM help_articles a WHERE a.slug = ${slug}
    ON CONFLICT (article_slug, voter) DO UPDATE SET helpful = excluded.helpful, updated_at = excluded.updated_at
    RETURNING voter`.execute(db);
  return rows.length === 1;
}

export async function deleteVote(db: Kysely<DB>, slug: string, voter: string): Promise<void> {
  await db.deleteFrom('help_votes').where('article_slug', '=', slug).where('voter', '=', voter).execute();
}

export async function countVotes(db: Kysely<DB>, slug: string): Promise<Votes> {
  const row = await db
    .selectFrom('help_votes')
    .select((eb) => [
      eb.fn.countAll<number>().filterWhere('helpful', '=', true).as('helpful'),
      eb.fn.countAll<number>().as('total'),
    ])
    .where('article_slug', '=', slug)
    .executeTakeFirstOrThrow();
  return { helpful: Number(row.helpful), total: Number(row.total) };
}

export async function voteOf(db: Kysely<DB>, slug: string, voter: string): Promise<boolean | null> {
  const row = await db.selectFrom('help_votes').select('helpful').where('article_slug', '=', slug).where('voter', '=', voter).executeTakeFirst();
  return row ? row.helpful : null;
}
