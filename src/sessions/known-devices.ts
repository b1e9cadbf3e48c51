import { sql, type Kysely } from 'kysely';
import { findAccountById } from '../accounts/queries.js';
import { recordAudit, type RequestMeta } from '../platform/audit.js';
import type { Clock } from '../platform/clock.js';
import { hmac, randomToken, type Random } from '../platform/crypto.js';
import type { DB } from '../platform/db/schema.js';
import type { Outbox } from '../platform/messaging/outbox.js';
import { notMeLink } from '../platform/not-me.js';
import { exactUtc } from '../platform/time-words.js';
import { describeDevice } from './device.js';

/** How long a browser keeps its device cookie (Chrome's upper bound for any cookie). */
export const DEVICE_COOKIE_SECONDS = 400 * 24 * 3600;

/** What randomToken makes: 32 bytes in base64url. Anything else a browser sends is ignored. */
const DEVICE_COOKIE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const countryNames = new Intl.DisplayNames(['en'], { type: 'region' });

export interface KnownDevicesDeps {
  clock: Clock;
  random: Random;
  /** The token key (secrets.tokenKey): device cookies at rest as HMAC(key, "device", cookie), and the not-me link. */
  key: Buffer;
  outbox: Outbox;
  publicUrl: string;
}

/** The browser a new session belongs to: the cookie it keeps from now on, and whether the account had seen it. */
export interface DeviceSeen {
  cookie: string;
  isNew: boolean;
}

/**
 * Which browsers an account has signed in from. A browser is recognised by a random device
 * cookie (256 bits, HttpOnly, kept 400 days), not by its IP address, which changes with every
 * network and is shared by strangers behind one router. An account keeps only an HMAC of each
 * browser's cookie. A session from a browser the account has not used before e-mails the
 * member, in the session's own transaction (so one sign-in is one e-mail, or none if it fails),
 * with a single-use "this wasn't me" link. The browser that signs up is known from the start.
 * A client that keeps no cookies (a script, a service calling POST /v1/sessions) is a new
 * browser at every sign-in, so the member hears of each; it keeps the Set-Cookie of the
 * answer to be recognised.
 */
export class KnownDevices {
  constructor(private readonly deps: KnownDevicesDeps) {}

  async seen(trx: Kysely<DB>, accountId: string, meta: RequestMeta, how: { quiet: boolean }): Promise<DeviceSeen> {
    const { clock, random, key } = this.deps;
    const now = clock.now();
    const presented = meta.deviceCookie && DEVICE_COOKIE_SHAPE.test(meta.deviceCookie) ? meta.deviceCookie : null;
    const cookie = presented ?? randomToken(random);
    const deviceHash = hmac(key, 'device', cookie).toString('hex');
    const userAgent = meta.userAgent?.slice(0, 512) ?? null;
    // The primary key decides: of two racing sign-ins from one new browser, one inserts. A
    // browser already known is updated by the same statement; `xmax = 0` tells an inserted
    // row from an updated one (one round trip on every sign-in).
    const row = await trx
      .insertInto('known_devices')
      .values({ account_id: accountId, device_hash: deviceHash, first_seen_at: now, last_seen_at: now, user_agent: userAgent })
      .onConflict((oc) => oc.columns(['account_id', 'device_hash']).doUpdateSet({ last_seen_at: now, user_agent: userAgent }))
      .returning(sql<boolean>`xmax = 0`.as('inserted'))
      .executeTakeFirstOrThrow();
    if (!row.inserted) return { cookie, isNew: false };
    if (!how.quiet) await this.tell(trx, accountId, meta, now);
    return { cookie, isNew: true };
  }

  private async tell(trx: Kysely<DB>, accountId: string, meta: RequestMeta, now: Date): Promise<void> {
    const { outbox, publicUrl, random, key } = this.deps;
    const account = await findAccountById(trx, accountId);
    if (!account) return;
    const device = describeDevice(meta.userAgent ?? null);
    const place = meta.country ? (countryNames.of(meta.country) ?? null) : null;
    const notMe = await notMeLink(trx, { key, random, now, accountId, publicUrl });
    await recordAudit(trx, now, { event: 'signin.new_browser', accountId, meta, details: { device } });
    await outbox.enqueue(trx, {
      channel: 'email',
      to: account.email,
      template: 'new-browser',
      data: { username: account.username, when: exactUtc(now), device, place, ip: meta.ip, notMeLink: notMe.link, securityLink: `${publicUrl}/account/security` },
    });
  }
}
