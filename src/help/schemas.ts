import { Type } from 'typebox';
import { Strict } from '../platform/web/schemas.js';
import { LIMITS } from './rules.js';

export const VotesSchema = Type.Object({ helpful: Type.Integer(), total: Type.Integer() });

export const SlugParams = Type.Object({ slug: Type.String({ maxLength: 200 }) });

export const SearchQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 1000, description: 'What the member typed; empty lists every article' })) });

export const ArticleSummarySchema = Type.Object(
  { slug: Type.String(), title: Type.String(), summary: Type.String(), votes: VotesSchema, updatedAt: Type.String() },
  { additionalProperties: true },
);

export const ArticleSchema = Type.Object(
  {
    slug: Type.String(),
    title: Type.String(),
    summary: Type.String(),
    body: Type.String({ description: 'Markdown' }),
    html: Type.String({ description: 'The body rendered and sanitised' }),
    keywords: Type.Array(Type.String()),
    votes: VotesSchema,
    updatedAt: Type.String(),
    related: Type.Array(Type.Object({ slug: Type.String(), title: Type.String() })),
  },
  { additionalProperties: true },
);

export const VoteBody = Strict({ helpful: Type.Boolean() });

// Lengths here bound the work done before the service checks each rule in full.
export const ArticleBody = Strict({
  title: Type.String({ maxLength: LIMITS.title * 2 }),
  summary: Type.String({ maxLength: LIMITS.summary * 2 }),
  body: Type.String({ maxLength: LIMITS.body * 2, description: 'Markdown; raw HTML is shown as text' }),
  keywords: Type.Optional(Type.Array(Type.String({ maxLength: LIMITS.keyword * 2 }), { maxItems: LIMITS.keywords * 2, description: 'The phrases members type' })),
  related: Type.Optional(Type.Array(Type.String({ maxLength: LIMITS.slug * 2 }), { maxItems: LIMITS.related * 2, description: 'Slugs of related articles' })),
});
