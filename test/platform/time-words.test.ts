import { describe, expect, it } from 'vitest';
import { exactUtc, timeAgo } from '../../src/platform/time-words.js';
import { describeDevice } from '../../src/sessions/device.js';

const now = new Date('2026-11-23T12:00:00Z');
const ago = (seconds: number) => timeAgo(new Date(now.getTime() - seconds * 1000), now);

describe('past moments in words', () => {
  it.each([
    [-30, 'just now'], // another process's clock a little ahead
    [0, 'just now'],
    [59, 'just now'],
    [60, '1 minute ago'],
    [59 * 60 + 59, '59 minutes ago'],
    [3600, '1 hour ago'],
    [2 * 3600 + 1799, '2 hours ago'],
    [23 * 3600 + 3599, '23 hours ago'],
    [24 * 3600, 'yesterday'],
    [47 * 3600, 'yesterday'],
    [48 * 3600, '2 days ago'],
    [7 * 86400, 'last week'],
    [29 * 86400, '4 weeks ago'],
    [45 * 86400, 'on 9 October 2026'],
  ])('%i seconds ago is "%s"', (seconds, words) => {
    expect(ago(seconds)).toBe(words);
  });

  it('gives the exact moment in UTC for the tooltip', () => {
    expect(exactUtc(new Date('2026-11-23T09:05:59Z'))).toBe('2026-11-23 09:05 UTC');
  });
});

describe('devices in words', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36', 'Chrome on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0', 'Microsoft Edge on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox on macOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
    ['curl/8.5.0', 'An app (curl/8.5.0)'],
    ['', 'Unknown device'],
    [null, 'Unknown device'],
  ])('%s is "%s"', (userAgent, words) => {
    expect(describeDevice(userAgent)).toBe(words);
  });
});
