import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../platform/crypto.js';
import { currentMember } from '../platform/web/auth.js';

export const VISITOR_COOKIE = 'verity_visitor';
const VISITOR_ID = /^[A-Za-z0-9_-]{22}$/;
const YEAR_SECONDS = 365 * 24 * 3600;

/** The visitor id from the signed cookie; a forged or altered cookie counts as none. */
function visitorId(request: FastifyRequest): string | null {
  const raw = request.cookies?.[VISITOR_COOKIE];
  if (!raw) return null;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value && VISITOR_ID.test(unsigned.value) ? unsigned.value : null;
}

/** Who is voting, if known: the signed-in account, else the visitor cookie. */
export async function knownVoter(request: FastifyRequest): Promise<string | null> {
  const found = await currentMember(request);
  if (found) return `account:${found.account.id}`;
  const id = visitorId(request);
  return id ? `visitor:${id}` : null;
}

export interface Voter {
  id: string;
  /** A vote this voter cast earlier under another id (as a visitor, before signing in). */
  replaces: string | null;
}

/** Who is voting; a first-time anonymous visitor is given a signed visitor cookie. */
export async function voter(request: FastifyRequest, reply: FastifyReply): Promise<Voter> {
  const found = await currentMember(request);
  const visitor = visitorId(request);
  if (found) return { id: `account:${found.account.id}`, replaces: visitor ? `visitor:${visitor}` : null };
  if (visitor) return { id: `visitor:${visitor}`, replaces: null };
  const { random, config } = request.server.verity;
  const id = randomToken(random, 16);
  reply.setCookie(VISITOR_COOKIE, id, { signed: true, httpOnly: true, sameSite: 'lax', secure: config.production, path: '/', maxAge: YEAR_SECONDS });
  return { id: `visitor:${id}`, replaces: null };
}
