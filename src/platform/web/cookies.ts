import type { CookieSerializeOptions } from '@fastify/cookie';

/**
 * The site's cookie names and attributes in one place.
 *
 * A Secure cookie is named with the `__Host-` prefix: the browser then accepts it only from a
 * secure origin, with Path=/ and without a Domain. So a sibling subdomain, a plain-HTTP
 * response or a narrower path can no longer plant a session or CSRF cookie of its own next
 * to ours. The prefix needs Secure, so development over plain HTTP keeps the bare names.
 */
export const COOKIE_BASE = {
  session: 'verity_session',
  csrf: 'verity_csrf',
  dismissedNotices: 'verity_notices_dismissed',
  /** The sign-in challenge between the password and the second step (its id is a bearer secret). */
  challenge: 'verity_challenge',
  /** A signed-in member's step-up challenge (/account/step-up), bound to that session. */
  stepUp: 'verity_step_up',
  /** The recovery challenge of a reset link, before the new password (its id is a bearer secret). */
  recovery: 'verity_recovery',
  /** Where "Forgot your answer?" leads back once the new answer is set: a same-site path the server built. */
  answerReturn: 'verity_answer_return',
  /** A refusal carried across one redirect (flash.ts). */
  flash: 'verity_flash',
  /** A random id for the browser, kept long, so a sign-in from a new browser can be told (sessions/known-devices.ts). */
  device: 'verity_device',
} as const;

export type CookieKind = keyof typeof COOKIE_BASE;

export function cookieName(kind: CookieKind, secure: boolean): string {
  return secure ? `__Host-${COOKIE_BASE[kind]}` : COOKIE_BASE[kind];
}

/** HttpOnly, SameSite=Lax, Path=/, never a Domain; Secure where the site is served over HTTPS. */
export function cookieOptions(secure: boolean, extra: CookieSerializeOptions = {}): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'lax', secure, path: '/', ...extra };
}
