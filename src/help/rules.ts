import type { FieldError } from '../platform/errors.js';
import type { ArticleInput } from './queries.js';

export const SLUG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export const LIMITS = {
  slug: 80,
  title: 120,
  summary: 300,
  body: 20_000,
  keywords: 40,
  keyword: 100,
  related: 10,
  query: 200,
  queryTerms: 12,
} as const;

/** What an admin sends for an article; keywords and related articles are optional. */
export interface ArticleDraft {
  title: string;
  summary: string;
  body: string;
  keywords?: string[] | undefined;
  related?: string[] | undefined;
}

export function isSlug(value: string): boolean {
  return value.length <= LIMITS.slug && SLUG_PATTERN.test(value);
}

function text(value: string, path: string, label: string, max: number, errors: FieldError[]): string {
  const trimmed = value.trim();
  if (!trimmed) errors.push({ path, message: `${label} is required.` });
  else if (trimmed.length > max) errors.push({ path, message: `${label} must be at most ${max} characters.` });
  return trimmed;
}

/**
 * Checks an article and returns it tidied (trimmed, keywords de-duplicated). Whether related
 * articles exist is the service's to check, against the database.
 */
export function checkArticle(slug: string, draft: ArticleDraft, errors: FieldError[]): ArticleInput {
  if (!isSlug(slug)) {
    errors.push({ path: '/slug', message: `The address must be lowercase letters, digits and single hyphens, at most ${LIMITS.slug} characters (e.g. "lost-phone").` });
  }
  const title = text(draft.title, '/title', 'The title', LIMITS.title, errors);
  const summary = text(draft.summary, '/summary', 'The summary', LIMITS.summary, errors);
  const body = text(draft.body, '/body', 'The article text', LIMITS.body, errors);

  const keywords: string[] = [];
  const rawKeywords = draft.keywords ?? [];
  if (rawKeywords.length > LIMITS.keywords) errors.push({ path: '/keywords', message: `At most ${LIMITS.keywords} keywords.` });
  rawKeywords.forEach((raw, i) => {
    const keyword = raw.trim().replace(/\s+/g, ' ');
    if (!keyword) errors.push({ path: `/keywords/${i}`, message: 'A keyword cannot be empty.' });
    else if (keyword.length > LIMITS.keyword) errors.push({ path: `/keywords/${i}`, message: `A keyword must be at most ${LIMITS.keyword} characters.` });
    else if (!keywords.some((k) => k.toLowerCase() === keyword.toLowerCase())) keywords.push(keyword);
  });

  const related: string[] = [];
  const rawRelated = draft.related ?? [];
  if (rawRelated.length > LIMITS.related) errors.push({ path: '/related', message: `At most ${LIMITS.related} related articles.` });
  rawRelated.forEach((raw, i) => {
    const other = raw.trim();
    if (!isSlug(other)) errors.push({ path: `/related/${i}`, message: `"${other.slice(0, 80)}" is not an article address.` });
    else if (other === slug) errors.push({ path: `/related/${i}`, message: 'An article cannot be related to itself.' });
    else if (!related.includes(other)) related.push(other);
  });

  return { title, summary, body: body + '\n', keywords, related };
}

/**
 * The words of a search query: lower case, apostrophes dropped ("can't" finds "cant"),
 * letters and digits only, so each can go into a tsquery as it is.
 */
export function searchTerms(query: string | undefined): string[] {
  if (!query) return [];
  const words = query
    .slice(0, LIMITS.query)
    .toLowerCase()
    .replace(/['’`]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => w.slice(0, 40));
  return [...new Set(words)].slice(0, LIMITS.queryTerms);
}
