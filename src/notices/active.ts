import { sha256Hex } from '../platform/crypto.js';
import type { Notice, NoticeViewer } from '../platform/web/notices.js';
import { ALL_COUNTRIES, parseIsoTime, type Feed, type FeedMessage, type TargetedMessage } from './feed.js';

/**
 * A notice's key: a hash of what the member reads (icon and text). Editing its times keeps
 * the key, so a dismissed notice stays put away; changing its words or kind shows it again.
 */
export function noticeKey(icon: string, message: string): string {
  return sha256Hex(`${icon}\n${message.trim()}`).slice(0, 16);
}

/** The keys of every notice the feed holds, active or not. */
export function feedKeys(feed: Feed): Set<string> {
  const keys = new Set<string>();
  for (const entry of [feed.global, ...feed.responsive]) if (entry.message.trim()) keys.add(noticeKey(entry.icon, entry.message));
  return keys;
}

/** Open at its start (inclusive), closed at its end (exclusive); blank times are open-ended. */
export function isActive(entry: FeedMessage, now: Date): boolean {
  const at = now.getTime();
  const start = entry.start ? parseIsoTime(entry.start) : null;
  const end = entry.end ? parseIsoTime(entry.end) : null;
  return (start === null || start <= at) && (end === null || at < end);
}

function isForViewer(entry: TargetedMessage, viewer: NoticeViewer): boolean {
  const everyCountry = (ALL_COUNTRIES as readonly string[]).includes(entry.country);
  const country = everyCountry || (viewer.country !== null && entry.country === viewer.country.toUpperCase());
  const userType = entry.usertype === 'all' || viewer.userTypes.includes(entry.usertype);
  return country && userType;
}

/**
 * The notices a viewer sees now: the global one, then the targeted ones that match their
 * country and user type, in feed order. Empty messages are never shown, nor one twice.
 */
export function activeNotices(feed: Feed, viewer: NoticeViewer, now: Date): Notice[] {
  const out: Notice[] = [];
  const add = (entry: FeedMessage, scope: Notice['scope']) => {
    const message = entry.message.trim();
    if (!message || !isActive(entry, now)) return;
    if (out.some((n) => n.message === message && n.icon === entry.icon)) return;
    out.push({ message, icon: entry.icon, scope, key: noticeKey(entry.icon, message) });
  };
  add(feed.global, 'global');
  for (const entry of feed.responsive) if (isForViewer(entry, viewer)) add(entry, 'targeted');
  return out;
}
