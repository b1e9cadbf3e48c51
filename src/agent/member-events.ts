import type { FastifyRequest } from 'fastify';
import { auditOf } from '../platform/audit.js';
import { exactUtc, timeAgo } from '../platform/time-words.js';
import { member } from '../platform/web/auth.js';
import { describeDevice } from '../sessions/device.js';
import { KIND_LABELS, STATUS_LABELS } from './words.js';

/**
 * The member's own recent security events on /account/security: sign-ins, changes to the
 * account and the requests they filed. Only events with a sentence here are shown; the
 * desk's own records (notes, assignment, views) are the agents' and stay off this page.
 */
const CHANGES: Record<string, string> = {
  'account.created': 'Account created',
  'account.email_verified': 'E-mail address confirmed',
  'account.roles_changed': 'Roles changed',
  'account.updated': 'Profile changed',
  'account.locked': 'Account locked',
  'account.unlocked': 'Account unlocked',
  'password.changed': 'Password changed',
  'email.change_requested': 'E-mail change asked for',
  'email.changed': 'E-mail address changed',
  'email.change_reverted': 'E-mail change undone',
  'phone.verified': 'Phone number added',
  'phone.changed': 'Phone number changed',
  'phone.removed': 'Phone number removed',
  'phone.released': 'Phone number released',
  'phone.claim_proven': 'Asked for a phone number held by another account',
  'phone.claim_granted': 'Phone number freed for you',
  'two_step.enabled': 'Two-step verification turned on',
  'two_step.disabled': 'Two-step verification turned off',
  'two_step.method_added': 'Two-step method added',
  'two_step.method_removed': 'Two-step method removed',
  'two_step.passkey_added': 'Passkey added',
  'two_step.passkey_removed': 'Passkey removed',
  'two_step.method_changed': 'Two-step method changed',
  'two_step.backup_codes_regenerated': 'New backup codes made',
  'compromise.reported': 'Reported as compromised',
  'session.revoked': 'A session was signed out',
  'session.revoked_others': 'Signed out everywhere else',
};

const SHOWN = 10;

export async function securityEventsSection(request: FastifyRequest): Promise<Record<string, unknown>> {
  const { db, clock, support } = request.server.verity;
  const { account } = member(request);
  const now = clock.now();
  const when = (at: Date) => ({ iso: at.toISOString(), words: timeAgo(at, now), exact: exactUtc(at) });
  const [signIns, changes, cases] = await Promise.all([
    auditOf(db, account.id, { limit: SHOWN, events: ['signin.succeeded'] }),
    auditOf(db, account.id, { limit: SHOWN, events: Object.keys(CHANGES) }),
    support.casesOf(account.id),
  ]);
  return {
    securityEvents: {
      signIns: signIns.map((s) => ({ when: when(s.createdAt), browser: describeDevice(s.userAgent), ip: s.ip, country: typeof s.details.country === 'string' ? s.details.country : null })),
      changes: changes.map((c) => ({ when: when(c.createdAt), what: CHANGES[c.event] ?? c.event, byStaff: c.actorId !== null && c.actorId !== account.id })),
      requests: cases.slice(0, SHOWN).map((c) => ({ when: when(c.created_at), kind: KIND_LABELS[c.kind] ?? c.kind, status: STATUS_LABELS[c.status] ?? c.status })),
      filed: (request.query as { done?: unknown }).done === 'claim' ? 'Your request is filed. We will e-mail you when the number is free to verify.' : undefined,
    },
  };
}
