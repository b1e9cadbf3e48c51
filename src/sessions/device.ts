import Bowser from 'bowser';

/**
 * "Chrome on Linux" from a User-Agent header. The parsing is bowser's (a kept list of
 * browsers and systems), not a regex of ours that would rot as browsers change.
 */
export function describeDevice(userAgent: string | null): string {
  const ua = userAgent?.trim();
  if (!ua) return 'Unknown device';
  const parser = Bowser.getParser(ua);
  const browser = parser.getBrowserName();
  const os = parser.getOSName();
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  if (os) return `A browser on ${os}`;
  // Not a browser (an API client, a script): its product name still helps a member spot it.
  const product = ua.split(/\s/)[0]!.slice(0, 40);
  return `An app (${product})`;
}
