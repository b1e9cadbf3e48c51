import type { Notice, NoticeViewer } from '../platform/web/notices.js';
import { ALL_COUNTRIES, parseIsoTime, type Feed, type FeedMessage, type TargetedMessage } from './feed.js';

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
    out.push({ message, icon: entry.icon, scope });
  };
  add(feed.global, 'global');
  for (const entry of feed.responsive) if (isForViewer(entry, viewer)) add(entry, 'targeted');
  return out;
}
