/** What a page banner needs; the notices domain fills it, every page shows it. */
export interface Notice {
  message: string;
  icon: 'info' | 'warning' | 'error' | 'success';
  scope: 'global' | 'targeted';
  /** A hash of the notice's content: a dismissal names it, and a changed notice has a new one. */
  key: string;
}

export interface NoticeViewer {
  country: string | null;
  userTypes: string[];
  /** The signed-in account, whose dismissals are stored; pages set it, the API does not. */
  accountId?: string | null;
  /** The keys a signed-out visitor dismissed (from their cookie). */
  dismissed?: readonly string[];
}

export const NOTICE_KEY = /^[0-9a-f]{16}$/;

/** A visitor's cookie keeps the most recent dismissals only; a feed rarely holds more notices for one viewer. */
export const DISMISSED_COOKIE_MAX = 20;

/** The dismissed keys a visitor's cookie lists; anything that is not a key is ignored. */
export function parseDismissed(value: string | undefined): string[] {
  if (!value) return [];
  return value.split('.').filter((key) => NOTICE_KEY.test(key)).slice(-DISMISSED_COOKIE_MAX);
}

export function serializeDismissed(keys: readonly string[]): string {
  return keys.slice(-DISMISSED_COOKIE_MAX).join('.');
}
