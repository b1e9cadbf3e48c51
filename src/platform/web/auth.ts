import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticated } from '../../sessions/service.js';
import { AppError } from '../errors.js';

export const SESSION_COOKIE = 'verity_session';

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

/** The signed-in member of a request (bearer token or session cookie), looked up once. */
export function currentMember(request: FastifyRequest): Promise<Authenticated | null> {
  let found = resolved.get(request);
  if (!found) {
    const token = bearer(request) ?? request.cookies?.[SESSION_COOKIE];
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
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: expiresAt });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: '/' });
}
