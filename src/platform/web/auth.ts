import type { FastifyReply, FastifyRequest } from 'fastify';
import { DEVICE_COOKIE_SECONDS } from '../../sessions/known-devices.js';
import type { Authenticated } from '../../sessions/service.js';
import { sha256Hex } from '../crypto.js';
import { AppError } from '../errors.js';
import { cookieName, cookieOptions } from './cookies.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireMember; null on routes that do not require a member. */
    member: Authenticated | null;
    /** Set by requireService. */
    serviceKey: { id: string; name: string } | null;
  }
}

const resolved = new WeakMap<FastifyRequest, Promise<Authenticated | null>>();

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The session token the request's cookie carries (under the name this deployment uses). */
function sessionCookie(request: FastifyRequest): string | undefined {
  return request.cookies?.[cookieName('session', request.server.verity.config.production)] || undefined;
}

/** The signed-in member of a request (bearer token or session cookie), looked up once. */
export function currentMember(request: FastifyRequest): Promise<Authenticated | null> {
  let found = resolved.get(request);
  if (!found) {
    const token = bearer(request) ?? sessionCookie(request);
    found = token ? request.server.verity.sessions.authenticate(token) : Promise.resolve(null);
    resolved.set(request, found);
  }
  return found;
}

/** preHandler: a signed-in member is required (401 otherwise). */
export async function requireMember(request: FastifyRequest): Promise<void> {
  const member = await currentMember(request);
  if (!member) throw new AppError('unauthenticated');
  request.member = member;
}

/** preHandler factory: a member holding a staff role (admins may do what agents do). */
export function requireStaff(role: 'agent' | 'admin') {
  return async function requireStaffRole(request: FastifyRequest): Promise<void> {
    await requireMember(request);
    const roles = await request.server.verity.admin.staffRoles(request.member!.account.id);
    if (!roles.includes(role) && !roles.includes('admin')) throw new AppError('forbidden');
  };
}

/** preHandler: another marketplace service, by its service key. */
export async function requireService(request: FastifyRequest): Promise<void> {
  const key = bearer(request);
  const found = key ? await request.server.verity.admin.authenticateServiceKey(key) : null;
  if (!found) throw new AppError('unauthenticated', { detail: 'A valid service key is required.' });
  request.serviceKey = found;
}

export function member(request: FastifyRequest): Authenticated {
  if (!request.member) throw new AppError('unauthenticated');
  return request.member;
}

export function setSessionCookie(reply: FastifyReply, token: string, expiresAt: Date, secure: boolean): void {
  reply.setCookie(cookieName('session', secure), token, cookieOptions(secure, { expires: expiresAt }));
}

/** The browser's long-lived device cookie (sessions/known-devices.ts), set with every new session. */
export function setDeviceCookie(reply: FastifyReply, cookie: string, secure: boolean): void {
  reply.setCookie(cookieName('device', secure), cookie, cookieOptions(secure, { maxAge: DEVICE_COOKIE_SECONDS }));
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(cookieName('session', secure), cookieOptions(secure));
}

/**
 * What a page's CSRF token is bound to: the session the cookie names, or "visitor" for a
 * signed-out browser (whose token is then bound only to its own CSRF secret cookie, its
 * pre-session id). A token made for one session is refused with another, so a planted CSRF
 * cookie and the attacker's own token do not pass, and signing in (a new session cookie)
 * invalidates every token issued before it. Only a hash of the session token is used.
 */
export function csrfBinding(request: FastifyRequest): string {
  const token = sessionCookie(request);
  return token ? `session:${sha256Hex(token)}` : 'visitor';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * onRequest for the JSON API. The session cookie goes along with any request a page of the
 * same site makes, including a sibling subdomain's `fetch`, which needs no body and no CSRF
 * token. So a write that the cookie (not a bearer token) would authenticate must show, by
 * `Sec-Fetch-Site` and `Origin`, that it comes from the site itself (PUBLIC_URL's origin).
 * A request that shows neither is refused too: browsers send them, other clients use bearer.
 */
export async function refuseCrossSiteCookieWrites(request: FastifyRequest): Promise<void> {
  if (SAFE_METHODS.has(request.method) || bearer(request) !== undefined || !sessionCookie(request)) return;
  const site = new URL(request.server.verity.config.publicUrl).origin;
  const fetchSite = header(request, 'sec-fetch-site');
  const origin = header(request, 'origin');
  const fromSite = (fetchSite !== undefined || origin !== undefined) && (fetchSite === undefined || fetchSite === 'same-origin') && (origin === undefined || origin === site);
  if (!fromSite) {
    throw new AppError('forbidden', {
      detail: "A change made with the session cookie must come from this site's own pages. Other clients send the session token as a bearer token.",
    });
  }
}
