import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieName, cookieOptions } from './cookies.js';

/**
 * A message carried across one redirect (post, redirect, get): a refused form answers 303 to
 * the page's own address, and the page shows the refusal once. The cookie is signed (a
 * planted one cannot put words on our page), bound to the account that caused it, and dies
 * after FLASH_SECONDS by the injected clock, whatever the browser does with Max-Age.
 */
export const FLASH_SECONDS = 60;

interface Sealed {
  /** Whose refusal it is: another account signed in on the same browser never sees it. */
  a: string;
  /** Until when (ms, by the app's clock) it may be shown. */
  u: number;
  p: unknown;
}

export function setFlash(request: FastifyRequest, reply: FastifyReply, accountId: string, payload: unknown): void {
  const { config, clock } = request.server.verity;
  const sealed: Sealed = { a: accountId, u: clock.now().getTime() + FLASH_SECONDS * 1000, p: payload };
  const value = Buffer.from(JSON.stringify(sealed)).toString('base64url');
  reply.setCookie(cookieName('flash', config.production), value, cookieOptions(config.production, { signed: true, maxAge: FLASH_SECONDS }));
}

/** The flash for this account, if a live one came with the request; it is cleared either way. */
export function takeFlash(request: FastifyRequest, reply: FastifyReply, accountId: string): unknown {
  const { config, clock } = request.server.verity;
  const name = cookieName('flash', config.production);
  const raw = request.cookies?.[name];
  if (!raw) return undefined;
  reply.clearCookie(name, cookieOptions(config.production));
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || !unsigned.value) return undefined;
  try {
    const sealed = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as Partial<Sealed>;
    if (sealed.a !== accountId || typeof sealed.u !== 'number' || sealed.u < clock.now().getTime()) return undefined;
    return sealed.p;
  } catch {
    return undefined;
  }
}
