import fc from 'fast-check';

/**
 * The hostile values the fuzz tests send: the characters that have broken text handling
 * before (NUL, lone surrogates, bidi and zero-width marks), look-alike e-mails, very long
 * strings, deep JSON, prototype keys, wrong types and numbers past every range.
 */

const SPECIALS = [
  '\u0000', 'a\u0000b', '\ud800', 'a\udc00b', '\udfff\ud800', '\u202e', 'abc\u202edef', '\u200b', 'a\u200db', '\ufeff', '\u2028', '\u0085',
  'ﬀ', 'ẞ', 'İ', 'K', '\u0301', '🙂', '\ud83d\ude42', '\r\n', '\t', ' ', '', '   ', '%00', '%', '%zz', '..', '../../etc/passwd', '\\',
  '<script>alert(1)</script>', '"><img src=x onerror=1>', "' OR 1=1 --", '${7*7}', '{{7*7}}', '<%= 1 %>', '\u0000\u0000\u0000',
  'null', 'undefined', 'true', 'NaN', '-0', '1e309', '0x10', '00000000-0000-4000-8000-000000000000', 'not-a-uuid', '+15005550006', '+',
] as const;

/** E-mails a person could mistake for another: Cyrillic, full-width, zero-width, case and dots. */
const LOOKALIKE_EMAILS = [
  'аdmin@example.com', 'admin@exаmple.com', 'ａｄｍｉｎ@example.com', 'ad\u200bmin@example.com', 'ADMIN@EXAMPLE.COM', 'a.d.m.i.n@example.com',
  'admin+x@example.com', 'admin@example.com.', 'admin@@example.com', '@example.com', 'admin@', 'admin@example..com', 'admin@[127.0.0.1]',
  '"a b"@example.com', 'admin@xn--exmple-cua.com', `${'a'.repeat(300)}@example.com`, 'admin@example.com\u0000', 'admin\u202e@example.com',
];

const lengths = [256, 1_000, 10_001, 100_000];
export const longString = fc.tuple(fc.constantFrom(...lengths), fc.constantFrom('a', 'é', '🙂', '\u200b', '\u0000', '\ud800')).map(([n, c]) => c.repeat(Math.ceil(n / c.length)));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIALS) },
  { weight: 2, arbitrary: fc.constantFrom(...LOOKALIKE_EMAILS) },
  { weight: 1, arbitrary: longString },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...SPECIALS), fc.string({ maxLength: 8 })).map((p) => p.join('')) },
);

const hugeNumber = fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER * 10, 1e308, -1e308, 2 ** 31, 2 ** 63, -1, 0, 0.5, 5e-324);

/** JSON text (not a value) where the number has more digits than a double holds. */
export const RAW_JSON_NUMBERS = ['1e999', '-1e999', '123456789012345678901234567890', '0.0000000000000000000000000000001'];

export const protoKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '__defineGetter__');

/** Any JSON value of the wrong shape for most fields. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: hostileString },
    { weight: 2, arbitrary: hugeNumber },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
    { weight: 1, arbitrary: fc.array(tie('v'), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.oneof(hostileString, protoKey), tie('v'), { maxKeys: 3 }) },
  ),
})).v;

/** JSON text nested `depth` levels, in arrays or objects (each stays under the body limit). */
export const deepJson = fc.tuple(fc.constantFrom(100, 1_000, 10_000, 50_000), fc.boolean()).map(([depth, objects]) =>
  objects ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth),
);

/** Serialises entries as a JSON object, keeping keys such as `__proto__` as own keys. */
export function objectText(entries: Array<[string, unknown]>, raw: Record<string, string> = {}): string {
  const parts = entries.map(([k, v]) => `${JSON.stringify(k)}:${raw[k] ?? JSON.stringify(v) ?? 'null'}`);
  return `{${parts.join(',')}}`;
}

export const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded', 'text/plain', 'text/html', 'multipart/form-data; boundary=x',
  'application/xml', 'application/json; charset=utf-16', 'application/problem+json', ';;;', 'application/json, text/plain', 'application/octet-stream', '*/*',
] as const;

/** Header values an HTTP parser lets through (visible ASCII and Latin-1): junk, long, odd. */
export const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
  fc.constantFrom('', ' ', 'Bearer', 'Bearer ', 'Bearer \u00ff\u00fe', 'Basic YWRtaW46YWRtaW4=', 'x'.repeat(8_000), '\u00e9\u00e8', 'null', '../..', '1.2.3.4, 5.6.7.8', '::1', 'ZZ', 'en-US,en;q=0.9,*;q=0'),
);

export const HEADER_NAMES = ['accept', 'accept-language', 'authorization', 'cookie', 'user-agent', 'x-forwarded-for', 'x-forwarded-proto', 'x-real-ip', 'cf-ipcountry', 'origin', 'referer', 'x-request-id', 'if-none-match', 'range', 'x-twilio-signature', 'idempotency-key', 'accept-encoding'] as const;

/** A value put into a URL: a path segment or a query value, percent-encoded as a client would. */
export const urlPiece = fc.oneof(
  { weight: 4, arbitrary: hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd')).slice(0, 4_000)) },
  { weight: 1, arbitrary: fc.constantFrom('%00', '%ZZ', '%', '%2e%2e', '..%2F..', '%F0%9F', '%ED%A0%80', '%C0%AF', '%E2%80%AE', '%EF%BB%BF', 'a%2Fb', '%20') },
);
