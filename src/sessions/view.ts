import { exactUtc, timeAgo } from '../platform/time-words.js';
import { describeDevice } from './device.js';
import type { SessionView } from './service.js';

/** A session as the security page shows it: the device in words, times in words and exact. */
export interface SessionCard extends SessionView {
  device: string;
  signedIn: { words: string; exact: string };
  lastActive: { words: string; exact: string };
}

export function sessionCards(sessions: SessionView[], now: Date): SessionCard[] {
  const when = (iso: string) => ({ words: timeAgo(new Date(iso), now), exact: exactUtc(new Date(iso)) });
  return sessions.map((s) => ({ ...s, device: describeDevice(s.userAgent), signedIn: when(s.createdAt), lastActive: when(s.lastSeenAt) }));
}
